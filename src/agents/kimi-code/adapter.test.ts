import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { sandboxContext } from '../../../test/support/agent-sandbox.js';
import type { Phase } from '../../payload/templates.js';
import type { AgentContext } from '../adapter.js';
import { kimiCodeAdapter } from './adapter.js';
import { KIMI_DEFAULT_MODEL, TASK_HEADING } from './config.js';

const run = promisify(execFile);
const PROMPT = 'Fix the login redirect, then say what changed.';

function context(
  root: string,
  over: { phase?: Phase; baseUrl?: string | null; model?: string | null } = {},
): AgentContext {
  return sandboxContext(root, {
    agent: 'kimi-code',
    binary: '/agents/kimi',
    launcher: '/agents/node',
    prompt: PROMPT,
    keyName: 'KIMI_API_KEY',
    key: 'sk-kimi-secret',
    baseUrl: over.baseUrl === null ? undefined : (over.baseUrl ?? 'http://127.0.0.1:9/v1'),
    model: over.model === null ? undefined : (over.model ?? 'kimi-k2.7-code'),
    agentsMd: '# House rules\n',
    phase: over.phase,
    timeLimitMs: 90_500,
  });
}

describe('Kimi Code adapter', () => {
  const roots: string[] = [];
  afterEach(async () => {
    for (const root of roots.splice(0)) await rm(root, { recursive: true, force: true });
  });
  const workspace = async () => {
    const root = await mkdtemp(join(tmpdir(), 'kimi-adapter-'));
    roots.push(root);
    for (const dir of ['repo', 'home', 'agent', 'tmp']) await mkdir(join(root, dir));
    return root;
  };

  it('takes the payload secret KIMI_API_KEY and needs Node ≥ 22.19 as its launcher', () => {
    expect(kimiCodeAdapter.modelKeys({})).toEqual(['KIMI_API_KEY']);
    expect(kimiCodeAdapter.launcher).toMatchObject({ program: 'node', minVersion: '22.19.0' });
    expect(kimiCodeAdapter.installHint).toContain('npm run agents');
  });

  it('starts the CLI with the launcher, the prompt file named but never the prompt', () => {
    const ctx = context('/w');
    const command = kimiCodeAdapter.command(ctx);
    expect(command.file).toBe('/agents/node');
    expect(command.args[0]).toBe('/agents/kimi');
    expect(command.args).toEqual(expect.arrayContaining(['--output-format', 'stream-json']));
    expect(command.args[command.args.indexOf('-p') + 1]).toContain(ctx.promptFile);
    expect(command.args.join(' ')).not.toContain(PROMPT);
    expect(command.args.join(' ')).not.toContain('sk-kimi-secret');
    expect(command.args).not.toContain('--yolo');
    expect(command.stdin).toBeUndefined();
    expect(command.cwd).toBe(ctx.checkoutDir);
  });

  it('refuses to start without the Node ≥ 22.19 launcher', () => {
    const ctx = { ...context('/w'), launcher: undefined };
    expect(() => kimiCodeAdapter.command(ctx)).toThrow(/node ≥ 22\.19/);
  });

  it('puts the key, model and endpoint only in the environment, as KIMI_MODEL_*', () => {
    const ctx = context('/w');
    const { env } = kimiCodeAdapter.command(ctx);
    expect(env).toMatchObject({
      KIMI_MODEL_API_KEY: 'sk-kimi-secret',
      KIMI_MODEL_NAME: 'kimi-k2.7-code',
      KIMI_MODEL_BASE_URL: 'http://127.0.0.1:9/v1',
      KIMI_MODEL_PROVIDER_TYPE: 'kimi',
      KIMI_CODE_HOME: '/w/agent/kimi-code',
      KIMI_DISABLE_TELEMETRY: '1',
      KIMI_CODE_NO_AUTO_UPDATE: '1',
      KIMI_LOOP_MAX_ATTEMPTS_PER_STEP: '3',
      KIMI_CODE_BACKGROUND_PRINT_WAIT_CEILING_S: '91',
    });
    expect(env.KIMI_API_KEY).toBeUndefined();
    // The base environment stays: HOME in the workspace, the host's PATH (Node 22 is the
    // launcher, not everyone's node).
    expect(env.HOME).toBe(ctx.homeDir);
    expect(env.PATH).toBe(ctx.baseEnv.PATH);
  });

  it("uses the CLI's default endpoint upstream and a default model when the clanker names none", () => {
    expect(kimiCodeAdapter.modelEndpoint({}, 'KIMI_API_KEY')).toEqual({
      provider: 'openai',
      baseUrl: 'https://api.moonshot.ai/v1',
    });
    const ctx = context('/w', { baseUrl: null, model: null });
    ctx.baseEnv.KIMI_MODEL_BASE_URL = 'http://exposed.invalid';
    const { env } = kimiCodeAdapter.command(ctx);
    // The CLI talks to the job's gateway, whatever the exposed variables say.
    expect(env.KIMI_MODEL_BASE_URL).toBe(ctx.model.baseUrl);
    expect(env.KIMI_MODEL_NAME).toBe(KIMI_DEFAULT_MODEL);
  });

  it('runs research and planning with the read-only agent, execution and claw without', () => {
    const agentFile = (phase: Phase) => {
      const args = kimiCodeAdapter.command(context('/w', { phase })).args;
      return args.includes('--agent-file') ? args[args.indexOf('--agent-file') + 1] : undefined;
    };
    expect(agentFile('research')).toBe('/w/agent/read-only-agent.md');
    expect(agentFile('planning')).toBe('/w/agent/read-only-agent.md');
    expect(agentFile('execution')).toBeUndefined();
    expect(agentFile('claw')).toBeUndefined();
  });

  it('prepares its home: config without the key, instructions, skills', async () => {
    const root = await workspace();
    const ctx = context(root);
    ctx.skills = [{ name: 'deploy', files: [{ path: 'SKILL.md', content: '# Deploy\n' }] }];
    await kimiCodeAdapter.prepare(ctx);
    const home = join(ctx.configDir, 'kimi-code');
    const config = await readFile(join(home, 'config.toml'), 'utf8');
    expect(config).toContain('telemetry = false');
    expect(config).toContain('event = "UserPromptSubmit"');
    expect(config).not.toContain('sk-kimi-secret');
    expect(await readFile(join(home, 'AGENTS.md'), 'utf8')).toBe('# House rules\n');
    expect(await readFile(join(home, 'skills', 'deploy', 'SKILL.md'), 'utf8')).toBe('# Deploy\n');
    expect(existsSync(join(ctx.configDir, 'read-only-agent.md'))).toBe(false);
    // Nothing goes into the checkout.
    expect(kimiCodeAdapter.checkoutFiles).toBeUndefined();
  });

  it('writes the read-only agent only for read-only phases, with reading tools only', async () => {
    const root = await workspace();
    const ctx = context(root, { phase: 'planning' });
    await kimiCodeAdapter.prepare(ctx);
    const agent = await readFile(join(ctx.configDir, 'read-only-agent.md'), 'utf8');
    const tools = /^tools: (.*)$/m.exec(agent)?.[1]?.split(', ');
    expect(tools).toEqual([
      'Read',
      'ReadMediaFile',
      'Glob',
      'Grep',
      'FetchURL',
      'TodoList',
      'Skill',
    ]);
    expect(agent).toMatch(/^\$\{base_prompt\}$/m);
  });

  it("prints the prompt file through the hook's command, whatever its path", async () => {
    const root = await workspace();
    const ctx = context(root);
    ctx.configDir = join(root, "agent it's $HOME");
    ctx.promptFile = join(ctx.configDir, 'prompt.md');
    await mkdir(ctx.configDir);
    await kimiCodeAdapter.prepare(ctx);
    await writeFile(ctx.promptFile, `${PROMPT}\n{"json": "lines too"}\n`);
    const config = await readFile(join(ctx.configDir, 'kimi-code', 'config.toml'), 'utf8');
    const command = JSON.parse(/^command = (.*)$/m.exec(config)?.[1] ?? '""') as string;
    const { stdout } = await run('/bin/sh', ['-c', command]);
    expect(stdout).toBe(`${TASK_HEADING}\n\n${PROMPT}\n{"json": "lines too"}\n`);
  });
});
