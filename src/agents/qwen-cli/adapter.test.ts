import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { sandboxContext } from '../../../test/support/agent-sandbox.js';
import type { Phase } from '../../payload/templates.js';
import { qwenCliAdapter } from './adapter.js';
import { qwenCliArgs, WALL_TIME_MARGIN_S } from './command-args.js';
import { DASHSCOPE_BASE_URL, OPENAI_BASE_URL } from './config.js';

const PROMPT = 'Fix the login redirect.\n[[answer]]\nDone.\n[[end]]';

function ctx(
  opts: {
    keyName?: string;
    baseUrl?: string;
    model?: string;
    phase?: Phase;
    timeLimitMs?: number;
    agentsMd?: string;
    root?: string;
  } = {},
) {
  return sandboxContext(opts.root ?? '/workspace', {
    agent: 'qwen-cli',
    binary: '/agents/qwen',
    prompt: PROMPT,
    keyName: opts.keyName ?? 'OPENAI_API_KEY',
    key: 'sk-secret-value',
    baseUrl: opts.baseUrl,
    model: opts.model,
    phase: opts.phase,
    timeLimitMs: opts.timeLimitMs,
    agentsMd: opts.agentsMd,
  });
}

describe('qwen-cli adapter: model keys', () => {
  it('accepts an OpenAI or a DashScope key, the endpoint’s own first', () => {
    expect(qwenCliAdapter.modelKeys({})).toEqual(['OPENAI_API_KEY', 'DASHSCOPE_API_KEY']);
    expect(qwenCliAdapter.modelKeys({ baseUrl: 'https://llm.example.com/v1' })).toEqual([
      'OPENAI_API_KEY',
      'DASHSCOPE_API_KEY',
    ]);
    for (const baseUrl of [
      DASHSCOPE_BASE_URL,
      'https://dashscope-intl.aliyuncs.com/compatible-mode/v1',
    ]) {
      expect(qwenCliAdapter.modelKeys({ baseUrl })).toEqual([
        'DASHSCOPE_API_KEY',
        'OPENAI_API_KEY',
      ]);
    }
  });
});

describe('qwen-cli adapter: command', () => {
  it('runs headless in the checkout with the prompt on stdin, never in argv', () => {
    const c = ctx({ model: 'qwen3-coder-plus', baseUrl: 'http://127.0.0.1:9999/v1' });
    const command = qwenCliAdapter.command(c);
    expect(command.file).toBe('/agents/qwen');
    expect(command.cwd).toBe('/workspace/repo');
    expect(command.stdin).toBe(PROMPT);
    expect(command.args.join('\n')).not.toContain('Fix the login');
    expect(command.args.join('\n')).not.toContain('sk-secret-value');
    expect(command.args).toEqual(qwenCliArgs({ phase: 'execution', timeLimitMs: 600_000 }));
  });

  it('puts the key, endpoint and model in the environment, and the home in the workspace', () => {
    const c = ctx({ model: 'qwen3-coder-plus', baseUrl: 'http://127.0.0.1:9999/v1' });
    const { env } = qwenCliAdapter.command(c);
    expect(env).toMatchObject({
      ...c.baseEnv,
      QWEN_HOME: '/workspace/agent',
      QWEN_CODE_NO_RELAUNCH: 'true',
      QWEN_USAGE_STATISTICS_ENABLED: 'false',
      OPENAI_API_KEY: 'sk-secret-value',
      OPENAI_BASE_URL: 'http://127.0.0.1:9999/v1',
      OPENAI_MODEL: 'qwen3-coder-plus',
    });
    // The key is in the environment once, under the variable the CLI reads.
    expect(Object.values(env).filter((v) => v.includes('sk-secret-value'))).toHaveLength(1);
  });

  it('sends a key without clanker.baseUrl to its provider’s endpoint, always explicitly', () => {
    const openai = qwenCliAdapter.command(ctx()).env;
    expect(openai.OPENAI_BASE_URL).toBe(OPENAI_BASE_URL);
    expect(openai.OPENAI_MODEL).toBeUndefined();
    const dashscope = qwenCliAdapter.command(ctx({ keyName: 'DASHSCOPE_API_KEY' })).env;
    expect(dashscope.OPENAI_BASE_URL).toBe(DASHSCOPE_BASE_URL);
    expect(dashscope.OPENAI_API_KEY).toBe('sk-secret-value');
    expect(dashscope.DASHSCOPE_API_KEY).toBeUndefined();
  });

  it('runs research and planning in plan mode, execution and claw in yolo', () => {
    const mode = (phase: Phase) => {
      const args = qwenCliAdapter.command(ctx({ phase })).args;
      return args[args.indexOf('--approval-mode') + 1];
    };
    expect(mode('research')).toBe('plan');
    expect(mode('planning')).toBe('plan');
    expect(mode('execution')).toBe('yolo');
    expect(mode('claw')).toBe('yolo');
  });

  it('sets the CLI’s wall-time budget past the worker’s limit, so the worker’s wins', () => {
    const wall = (timeLimitMs: number) => {
      const args = qwenCliArgs({ timeLimitMs });
      const i = args.indexOf('--max-wall-time');
      return i < 0 ? undefined : args[i + 1];
    };
    expect(wall(8_000)).toBe(String(8 + WALL_TIME_MARGIN_S));
    expect(wall(1_500)).toBe(String(2 + WALL_TIME_MARGIN_S));
    expect(wall(Number.POSITIVE_INFINITY)).toBeUndefined();
    expect(wall(0)).toBeUndefined();
    expect(wall(30 * 86_400_000)).toBeUndefined();
  });
});

describe('qwen-cli adapter: prepare', () => {
  let root: string | undefined;
  afterEach(async () => {
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('writes quiet settings without the key, the instructions and the skills into QWEN_HOME', async () => {
    root = await mkdtemp(join(tmpdir(), 'qwen-prepare-'));
    const c = {
      ...ctx({ root, agentsMd: '# House rules\n' }),
      skills: [{ name: 'deploy', files: [{ path: 'SKILL.md', content: '# Deploy\n' }] }],
    };
    await qwenCliAdapter.prepare(c);
    const text = await readFile(join(c.configDir, 'settings.json'), 'utf8');
    expect(text).not.toContain('sk-secret-value');
    expect(JSON.parse(text)).toMatchObject({
      $version: 4,
      general: { enableAutoUpdate: false, chatRecording: false },
      privacy: { usageStatisticsEnabled: false },
      telemetry: { enabled: false },
      memory: { enableManagedAutoMemory: false },
      model: { generationConfig: { maxRetries: 0 } },
    });
    expect((await stat(join(c.configDir, 'settings.json'))).mode & 0o777).toBe(0o600);
    expect(await readFile(join(c.configDir, 'QWEN.md'), 'utf8')).toBe('# House rules\n');
    expect(await readFile(join(c.configDir, 'skills', 'deploy', 'SKILL.md'), 'utf8')).toBe(
      '# Deploy\n',
    );
    // Nothing in the checkout: the CLI reads the user-level QWEN.md.
    expect(qwenCliAdapter.checkoutFiles).toBeUndefined();
  });

  it('writes no instructions file when the clanker has none', async () => {
    root = await mkdtemp(join(tmpdir(), 'qwen-prepare-'));
    const c = ctx({ root });
    await qwenCliAdapter.prepare(c);
    await expect(stat(join(c.configDir, 'QWEN.md'))).rejects.toThrow();
  });
});
