import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { sandboxContext } from '../../../test/support/agent-sandbox.js';
import type { Phase } from '../../payload/templates.js';
import type { AgentContext } from '../adapter.js';
import { geminiCliAdapter } from './adapter.js';
import { geminiCliArgs } from './command-args.js';
import { GEMINI_MAX_ATTEMPTS } from './config.js';

const KEY = 'AIza-test-key-0123456789';
const PROMPT = 'Please change the login redirect.';

function context(
  root: string,
  over: { phase?: Phase; baseUrl?: string; model?: string; agentsMd?: string } = {},
): AgentContext {
  const ctx = sandboxContext(root, {
    agent: 'gemini-cli',
    binary: '/agents/gemini',
    prompt: PROMPT,
    keyName: 'GEMINI_API_KEY',
    key: KEY,
    baseUrl: 'baseUrl' in over ? over.baseUrl : 'http://127.0.0.1:9999',
    model: 'model' in over ? over.model : 'gemini-2.5-pro',
    agentsMd: over.agentsMd,
    phase: over.phase,
  });
  return ctx;
}

describe('Gemini CLI adapter: command', () => {
  it('runs headless with stream-json, the prompt on stdin and never in argv', () => {
    const ctx = context('/w');
    const command = geminiCliAdapter.command(ctx);
    expect(command.file).toBe('/agents/gemini');
    expect(command.cwd).toBe(ctx.checkoutDir);
    expect(command.stdin).toBe(PROMPT);
    expect(command.args).toEqual([
      '--output-format',
      'stream-json',
      '--approval-mode',
      'yolo',
      '--skip-trust',
      '--model',
      'gemini-2.5-pro',
    ]);
    expect(command.args.join(' ')).not.toContain(PROMPT);
  });

  it('approves every tool when changing the repository, none that writes when only reading', () => {
    const mode = (phase: Phase) => {
      const args = geminiCliArgs({ phase });
      return args[args.indexOf('--approval-mode') + 1];
    };
    expect(mode('execution')).toBe('yolo');
    expect(mode('claw')).toBe('yolo');
    expect(mode('research')).toBe('default');
    expect(mode('planning')).toBe('default');
  });

  it('leaves the model to the CLI when the clanker names none', () => {
    const args = geminiCliAdapter.command(context('/w', { model: undefined })).args;
    expect(args).not.toContain('--model');
  });

  it('puts the key only in the environment, with the endpoint and a home of its own', () => {
    const ctx = context('/w');
    const { env, args } = geminiCliAdapter.command(ctx);
    expect(env.GEMINI_API_KEY).toBe(KEY);
    expect(Object.entries(env).filter(([, value]) => value.includes(KEY))).toEqual([
      ['GEMINI_API_KEY', KEY],
    ]);
    expect(args.join(' ')).not.toContain(KEY);
    expect(env.GOOGLE_GEMINI_BASE_URL).toBe('http://127.0.0.1:9999');
    expect(env.GEMINI_CLI_HOME).toBe(ctx.configDir);
    expect(env.GEMINI_CLI_NO_RELAUNCH).toBe('true');
    expect(env.GEMINI_CLI_TRUST_WORKSPACE).toBe('true');
    expect(env.GEMINI_TELEMETRY_ENABLED).toBe('false');
    // The whole environment: the base one plus the CLI's own variables.
    expect(env).toMatchObject(ctx.baseEnv);
  });

  it("goes upstream to Google's endpoint when the clanker sets no base URL", () => {
    expect(geminiCliAdapter.modelEndpoint({}, 'GEMINI_API_KEY')).toEqual({
      provider: 'gemini',
      baseUrl: 'https://generativelanguage.googleapis.com',
    });
    expect(
      geminiCliAdapter.modelEndpoint({ baseUrl: 'http://h:1' }, 'GEMINI_API_KEY').baseUrl,
    ).toBe('http://h:1');
    // The CLI itself always talks to the job's gateway.
    const ctx = context('/w', { baseUrl: undefined });
    expect(geminiCliAdapter.command(ctx).env.GOOGLE_GEMINI_BASE_URL).toBe(ctx.model.baseUrl);
  });

  it('accepts GEMINI_API_KEY as the key', () => {
    expect(geminiCliAdapter.modelKeys({})).toEqual(['GEMINI_API_KEY']);
  });
});

describe('Gemini CLI adapter: prepare', () => {
  let root: string | undefined;
  afterEach(async () => {
    if (root) await rm(root, { recursive: true, force: true });
    root = undefined;
  });

  async function prepared(over: Parameters<typeof context>[1] = {}) {
    root = await mkdtemp(join(tmpdir(), 'gemini-adapter-'));
    const ctx = {
      ...context(root, over),
      skills: [{ name: 'deploy', files: [{ path: 'SKILL.md', content: '# Deploy\n' }] }],
    };
    await geminiCliAdapter.prepare(ctx);
    const dir = join(ctx.configDir, '.gemini');
    const read = (path: string) => readFileSync(join(dir, path), 'utf8');
    return { ctx, dir, read };
  }

  it('writes settings that select the API key, stay offline and retry little, without the key', async () => {
    const { read } = await prepared();
    const text = read('settings.json');
    expect(text).not.toContain(KEY);
    const settings = JSON.parse(text);
    expect(settings.security.auth.selectedType).toBe('gemini-api-key');
    expect(settings.general.maxAttempts).toBe(GEMINI_MAX_ATTEMPTS);
    expect(settings.general.enableAutoUpdate).toBe(false);
    expect(settings.general.plan.enabled).toBe(false);
    expect(settings.privacy.usageStatisticsEnabled).toBe(false);
    expect(settings.telemetry.enabled).toBe(false);
    expect(settings.advanced.ignoreLocalEnv).toBe(true);
  });

  it('puts the instructions in the user-level GEMINI.md and the skills beside it', async () => {
    const { ctx, read } = await prepared({ agentsMd: '# House rules\n' });
    expect(read('GEMINI.md')).toBe('# House rules\n');
    expect(read('skills/deploy/SKILL.md')).toBe('# Deploy\n');
    expect(geminiCliAdapter.checkoutFiles).toBeUndefined();
    expect(existsSync(join(ctx.checkoutDir, 'GEMINI.md'))).toBe(false);
  });

  it('writes no GEMINI.md without instructions', async () => {
    const { dir } = await prepared();
    expect(existsSync(join(dir, 'GEMINI.md'))).toBe(false);
  });

  it('denies Plan Mode always and the writing tools in read-only phases', async () => {
    const execution = (await prepared({ phase: 'execution' })).read('policies/viberator.toml');
    expect(execution).toContain('toolName = ["enter_plan_mode", "exit_plan_mode"]');
    expect(execution).not.toContain('write_file');
    await rm(root as string, { recursive: true, force: true });
    const research = (await prepared({ phase: 'research' })).read('policies/viberator.toml');
    expect(research).toContain('toolName = ["write_file", "replace", "run_shell_command"]');
    expect(research.match(/decision = "deny"/g)).toHaveLength(2);
  });
});
