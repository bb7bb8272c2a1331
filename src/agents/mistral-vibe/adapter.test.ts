import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AgentSandbox,
  createAgentSandbox,
  sandboxContext,
} from '../../../test/support/agent-sandbox.js';
import {
  type ModelServer,
  startModelServer,
} from '../../../test/support/model-server/model-server.js';
import type { Phase } from '../../payload/templates.js';
import { mistralVibeAdapter } from './adapter.js';
import { promptPointer } from './command-args.js';
import { vibeConfigToml } from './config.js';

const ctx = (over: { phase?: Phase; baseUrl?: string; model?: string; agentsMd?: string } = {}) =>
  sandboxContext('/w', {
    agent: 'mistral-vibe',
    binary: '/agents/vibe',
    prompt: 'Add a greeting.',
    keyName: 'MISTRAL_API_KEY',
    key: 'sk-secret-value',
    ...over,
  });

describe('Mistral Vibe adapter: command', () => {
  it('passes a pointer to the prompt file, never the prompt, and the key only in the env', () => {
    const c = ctx({ baseUrl: 'http://127.0.0.1:9/v1', model: 'devstral-small-latest' });
    const command = mistralVibeAdapter.command(c);
    expect(command.args).toEqual([
      '-p',
      promptPointer('/w/agent/prompt.md'),
      '--output',
      'streaming',
      '--agent',
      'auto-approve',
    ]);
    expect(command.args.join(' ')).not.toContain('Add a greeting');
    expect(command.args.join(' ')).not.toContain('sk-secret-value');
    expect(command.cwd).toBe('/w/repo');
    expect(command.stdin).toBeUndefined();
    expect(command.env).toEqual({
      ...c.baseEnv,
      VIBE_HOME: '/w/agent',
      MISTRAL_API_KEY: 'sk-secret-value',
    });
  });

  it('runs research and planning with the read-only plan profile', () => {
    const profile = (phase: Phase) => mistralVibeAdapter.command(ctx({ phase })).args.at(-1);
    expect(profile('research')).toBe('plan');
    expect(profile('planning')).toBe('plan');
    expect(profile('execution')).toBe('auto-approve');
    expect(profile('claw')).toBe('auto-approve');
  });

  it('accepts MISTRAL_API_KEY', () => {
    expect(mistralVibeAdapter.modelKeys({})).toEqual(['MISTRAL_API_KEY']);
    expect(mistralVibeAdapter.launcher).toBeUndefined();
  });
});

describe('Mistral Vibe adapter: VIBE_HOME', () => {
  it('writes a custom endpoint as a generic provider, the model as the active one', () => {
    expect(
      vibeConfigToml({
        baseUrl: 'https://gateway.example/v1/',
        custom: true,
        model: 'devstral-small-latest',
        keyEnvVar: 'MISTRAL_API_KEY',
        promptFiles: ['/w/agent/prompt.md', '/real/w/agent/prompt.md'],
      }),
    ).toBe(
      [
        '# Mistral Vibe configuration for one Viberator job (VIBE_HOME). The key is not here: the',
        '# provider names the environment variable that holds it.',
        'active_model = "devstral-small-latest"',
        'enable_telemetry = false',
        'enable_update_checks = false',
        'enable_connectors = false',
        'api_retry_max_elapsed_time = 20',
        '',
        '[[providers]]',
        'name = "custom"',
        'api_base = "https://gateway.example/v1"',
        'api_key_env_var = "MISTRAL_API_KEY"',
        'backend = "generic"',
        'api_style = "openai"',
        '',
        '[[models]]',
        'name = "devstral-small-latest"',
        'provider = "custom"',
        'alias = "devstral-small-latest"',
        '',
        '[experiments]',
        'enable = false',
        '',
        '[session_logging]',
        'enabled = false',
        '',
        '[tools.read]',
        'allowlist = ["/w/agent/prompt.md", "/real/w/agent/prompt.md"]',
        '',
      ].join('\n'),
    );
  });

  it("uses Vibe's own Mistral provider and default model when the clanker names neither", () => {
    const toml = vibeConfigToml({
      baseUrl: 'http://127.0.0.1:4000/v1',
      custom: false,
      keyEnvVar: 'MISTRAL_API_KEY',
      promptFiles: ['/w/agent/prompt.md'],
    });
    expect(toml).toContain(
      [
        '[[providers]]',
        'name = "mistral"',
        'api_base = "http://127.0.0.1:4000/v1"',
        'api_key_env_var = "MISTRAL_API_KEY"',
        'backend = "mistral"',
        '',
        '[[models]]',
        'name = "mistral-vibe-cli-latest"',
        'provider = "mistral"',
        'alias = "mistral-medium-3.5"',
        'temperature = 1.0',
        'thinking = "high"',
      ].join('\n'),
    );
    expect(toml).toContain('active_model = "mistral-medium-3.5"');
  });

  it('escapes what TOML cannot hold raw', () => {
    const toml = vibeConfigToml({
      baseUrl: 'http://127.0.0.1:4000/v1',
      custom: false,
      model: 'a"b\\c\u007f\n',
      keyEnvVar: 'MISTRAL_API_KEY',
      promptFiles: ['/w'],
    });
    expect(toml).toContain('active_model = "a\\"b\\\\c\\u007F\\n"');
  });

  it('writes config, instructions and skills into the config dir, and no key', async () => {
    const root = await mkdtemp(join(tmpdir(), 'vibe-prepare-'));
    try {
      const c = {
        ...sandboxContext(root, {
          agent: 'mistral-vibe',
          binary: '/agents/vibe',
          prompt: 'p',
          keyName: 'MISTRAL_API_KEY',
          key: 'sk-secret-value',
          baseUrl: 'http://127.0.0.1:9/v1',
          agentsMd: '# Rules\n',
        }),
        skills: [
          { name: 'review', files: [{ path: 'SKILL.md', content: '---\nname: review\n---\n' }] },
        ],
      };
      await mistralVibeAdapter.prepare(c);
      const config = await readFile(join(root, 'agent', 'config.toml'), 'utf8');
      expect(config).toContain('api_base = "http://127.0.0.1:9/v1"');
      expect(config).not.toContain('sk-secret-value');
      expect(await readFile(join(root, 'agent', 'AGENTS.md'), 'utf8')).toBe('# Rules\n');
      expect(existsSync(join(root, 'agent', 'skills', 'review', 'SKILL.md'))).toBe(true);
      expect(mistralVibeAdapter.checkoutFiles).toBeUndefined();
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});

/**
 * The fake `vibe` the suite runs (Python 3.12, which the real one needs, cannot be installed
 * here) accepts exactly what the adapter gives it and refuses anything else.
 */
describe('Mistral Vibe adapter: the fake vibe', () => {
  const FAKE = fileURLToPath(
    new URL('../../../test/fixtures/agents/mistral-vibe/fake-vibe.mjs', import.meta.url),
  );
  let server: ModelServer;
  const sandboxes: AgentSandbox[] = [];

  beforeAll(async () => {
    server = await startModelServer({ apiKey: 'sk-demo' });
  });
  afterAll(async () => {
    await Promise.all(sandboxes.map((s) => s.remove()));
    await server?.close();
  });

  const sandbox = async (prompt: string, phase?: Phase) => {
    const s = await createAgentSandbox(mistralVibeAdapter, {
      prompt,
      key: 'sk-demo',
      baseUrl: `${server.url}/v1`,
      model: 'devstral-small-latest',
      agentsMd: '# House rules\n',
      phase,
      env: { VIBERATOR_AGENT_BIN_MISTRAL_VIBE: FAKE },
    });
    sandboxes.push(s);
    return s;
  };

  const run = (s: AgentSandbox, args = s.command.args) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        s.command.file,
        args,
        { cwd: s.command.cwd, env: s.command.env },
        (error, stdout, stderr) =>
          resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
      );
    });

  const write = '[[write hello.txt]]\nHello!\n[[end]]\n[[answer]]\nDone.\n[[end]]';

  it('runs the adapter’s command to the end: the file is written, instructions reached the model', async () => {
    const s = await sandbox(`Add a greeting.\n${write}`);
    const before = server.requests.length;
    const result = await run(s);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(await readFile(join(s.ctx.checkoutDir, 'hello.txt'), 'utf8')).toBe('Hello!\n');
    const turns = server.requests.slice(before).flatMap((r) => (r.turn ? [r.turn] : []));
    expect(turns.every((t) => t.allText.includes('# House rules'))).toBe(true);
    expect(turns[0]?.model).toBe('devstral-small-latest');
  });

  it('in the plan profile, reads the prompt file but writes nothing', async () => {
    const s = await sandbox(`Plan a greeting.\n${write}`, 'research');
    const result = await run(s);
    expect(result.code).toBe(0);
    expect(existsSync(join(s.ctx.checkoutDir, 'hello.txt'))).toBe(false);
    expect(result.stdout).toContain("Tool 'write_file' is permanently disabled");
    expect(result.stdout).toContain('1→Plan a greeting.');
  });

  it('refuses other arguments, a changed config and a key written to a file', async () => {
    const s = await sandbox(`Add a greeting.\n${write}`);
    const [, , ...rest] = s.command.args;
    const withPrompt = await run(s, ['-p', 'Add a greeting.', ...rest]);
    expect(withPrompt).toMatchObject({ code: 2 });
    expect(withPrompt.stderr).toMatch(/^fake-vibe: /);
    expect((await run(s, [...s.command.args, '--trust'])).code).toBe(2);

    const configFile = join(s.ctx.configDir, 'config.toml');
    const config = await readFile(configFile, 'utf8');
    await writeFile(
      configFile,
      config.replace('enable_telemetry = false', 'enable_telemetry = true'),
    );
    expect((await run(s)).stderr).toContain('enable_telemetry must be false');
    await writeFile(configFile, config);

    await writeFile(join(s.ctx.configDir, '.env'), 'MISTRAL_API_KEY=sk-demo\n');
    expect((await run(s)).stderr).toContain('the key is written in');
  });
});
