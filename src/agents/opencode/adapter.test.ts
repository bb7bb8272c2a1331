import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { sandboxContext } from '../../../test/support/agent-sandbox.js';
import type { Phase } from '../../payload/templates.js';
import type { AgentContext } from '../adapter.js';
import { opencodeAdapter } from './adapter.js';
import { opencodeConfig } from './config.js';
import { opencodeModelKeys, opencodeProvider } from './provider.js';

function context(
  over: { model?: string; baseUrl?: string; phase?: Phase; agentsMd?: string; root?: string } = {},
): AgentContext {
  const model = 'model' in over ? over.model : 'demo-model';
  const baseUrl = 'baseUrl' in over ? over.baseUrl : 'http://127.0.0.1:9/v1';
  return sandboxContext(over.root ?? '/w', {
    agent: 'opencode',
    binary: '/agents/opencode',
    prompt: 'Do the thing. SECRET-PROMPT',
    keyName: opencodeModelKeys({ model, baseUrl })[0] ?? 'OPENAI_API_KEY',
    key: 'sk-the-key',
    baseUrl,
    model,
    agentsMd: over.agentsMd,
    phase: over.phase,
    timeLimitMs: 120_000,
  });
}

describe('OpenCode provider and keys', () => {
  it('serves a bare model with a base URL from an OpenAI-compatible provider', () => {
    const clanker = { model: 'meta-llama/Llama-3-8B', baseUrl: 'http://h/v1' };
    expect(opencodeProvider(clanker)).toEqual({
      id: 'viberator',
      model: 'meta-llama/Llama-3-8B',
      custom: true,
    });
    expect(opencodeModelKeys(clanker)).toEqual(['OPENAI_API_KEY']);
  });

  it("takes a known provider prefix as OpenCode's provider, with or without a base URL", () => {
    expect(
      opencodeProvider({ model: 'anthropic/claude-sonnet-4-5', baseUrl: 'http://h/v1' }),
    ).toEqual({ id: 'anthropic', model: 'claude-sonnet-4-5', custom: false });
    expect(opencodeProvider({ model: 'openrouter/meta-llama/llama-3.3-70b' })).toEqual({
      id: 'openrouter',
      model: 'meta-llama/llama-3.3-70b',
      custom: false,
    });
    expect(opencodeModelKeys({ model: 'anthropic/claude-sonnet-4-5' })).toEqual([
      'ANTHROPIC_API_KEY',
    ]);
    expect(opencodeModelKeys({ model: 'google/gemini-2.5-pro' })[0]).toBe('GEMINI_API_KEY');
    expect(opencodeModelKeys({ model: 'openrouter/x/y' })).toEqual(['OPENROUTER_API_KEY']);
  });

  it('defaults to OpenAI, and names the key of an unknown provider by convention', () => {
    expect(opencodeProvider({ model: 'gpt-5' })).toEqual({
      id: 'openai',
      model: 'gpt-5',
      custom: false,
    });
    expect(opencodeProvider({})).toEqual({ id: 'openai', custom: false });
    expect(opencodeModelKeys({})).toEqual(['OPENAI_API_KEY']);
    expect(opencodeModelKeys({ model: 'my-cloud/big-model' })).toEqual(['MY_CLOUD_API_KEY']);
    expect(opencodeModelKeys({ model: 'constructor/x' })).toEqual(['CONSTRUCTOR_API_KEY']);
  });
});

describe('OpenCode configuration', () => {
  it('names the key variable, never the key, and points the provider at the base URL', () => {
    const ctx = context();
    const config = opencodeConfig(ctx);
    expect(JSON.stringify(config)).not.toContain('sk-the-key');
    expect(config).toMatchObject({
      model: 'viberator/demo-model',
      small_model: 'viberator/demo-model',
      enabled_providers: ['viberator'],
      provider: {
        viberator: {
          npm: '@ai-sdk/openai-compatible',
          options: {
            apiKey: '{env:OPENAI_API_KEY}',
            baseURL: 'http://127.0.0.1:9/v1',
            timeout: 120_000,
          },
          models: { 'demo-model': {} },
        },
      },
      snapshot: false,
      autoupdate: false,
      share: 'disabled',
    });
  });

  it("keeps a catalogued provider's SDK and sends it to the gateway in front of its endpoint", () => {
    const ctx = context({ model: 'anthropic/claude-sonnet-4-5', baseUrl: undefined });
    const config = opencodeConfig(ctx);
    expect(config.provider).toEqual({
      anthropic: {
        options: {
          apiKey: '{env:ANTHROPIC_API_KEY}',
          baseURL: ctx.model.baseUrl,
          timeout: 120_000,
        },
        models: { 'claude-sonnet-4-5': {} },
      },
    });
    expect(opencodeAdapter.modelEndpoint(ctx.clanker, 'ANTHROPIC_API_KEY')).toEqual({
      provider: 'anthropic',
      baseUrl: 'https://api.anthropic.com/v1',
    });
  });

  it('needs a base URL for a provider whose endpoint the worker does not know', () => {
    expect(() =>
      opencodeAdapter.modelEndpoint({ model: 'somecloud/model-x' }, 'SOMECLOUD_API_KEY'),
    ).toThrow(/somecloud.*clanker\.baseUrl/);
    expect(
      opencodeAdapter.modelEndpoint(
        { model: 'somecloud/model-x', baseUrl: 'https://somecloud.example/v1' },
        'SOMECLOUD_API_KEY',
      ),
    ).toEqual({ provider: 'openai', baseUrl: 'https://somecloud.example/v1' });
  });

  it('bounds each request by the run time limit, when a timer can hold it', () => {
    const options = (timeLimitMs: number) =>
      (
        opencodeConfig({ ...context(), timeLimitMs }).provider as Record<
          string,
          { options: object }
        >
      ).viberator?.options;
    expect(options(90_500.2)).toMatchObject({ timeout: 90_501 });
    expect(options(60 * 86_400_000)).toMatchObject({ timeout: 2 ** 31 - 1 });
    expect(options(Number.POSITIVE_INFINITY)).not.toHaveProperty('timeout');
  });

  it('lets execution edit and run commands, and keeps research and planning read-only', () => {
    expect(opencodeConfig(context({ phase: 'execution' })).permission).toEqual({
      edit: 'allow',
      bash: 'allow',
      external_directory: { '/w/tmp/**': 'allow' },
    });
    expect(opencodeConfig(context({ phase: 'claw' })).permission).toMatchObject({
      edit: 'allow',
    });
    for (const phase of ['research', 'planning'] as const) {
      expect(opencodeConfig(context({ phase })).permission).toEqual({
        edit: 'deny',
        bash: 'deny',
      });
    }
  });

  it("reads the clanker's instructions from the config dir and the repository's own file", () => {
    expect(opencodeConfig(context({ agentsMd: '# Rules' })).instructions).toEqual([
      '/w/agent/AGENTS.md',
      '/w/repo/AGENTS.md',
    ]);
    expect(opencodeConfig(context()).instructions).toEqual(['/w/repo/AGENTS.md']);
  });
});

describe('OpenCode command', () => {
  it('passes the prompt on stdin and the key only in the environment', () => {
    const ctx = context();
    const command = opencodeAdapter.command(ctx);
    expect(command.stdin).toBe(ctx.prompt);
    expect(command.args.join(' ')).not.toContain('SECRET-PROMPT');
    expect(command.args.join(' ')).not.toContain('sk-the-key');
    expect(command.cwd).toBe('/w/repo');
    expect(command.env).toMatchObject({
      OPENAI_API_KEY: 'sk-the-key',
      OPENCODE_CONFIG: '/w/agent/opencode.json',
      XDG_CONFIG_HOME: '/w/agent/xdg-config',
      HOME: '/w/home',
      OPENCODE_DISABLE_PROJECT_CONFIG: '1',
      OPENCODE_DISABLE_MODELS_FETCH: '1',
      OPENCODE_DISABLE_AUTOUPDATE: '1',
    });
  });

  it('has the same arguments for every phase and model', () => {
    const args = opencodeAdapter.command(context()).args;
    expect(opencodeAdapter.command(context({ phase: 'research', model: 'x/y' })).args).toEqual(
      args,
    );
    expect(args.slice(0, 3)).toEqual(['run', '--format', 'json']);
  });
});

describe('OpenCode prepare', () => {
  let root: string | undefined;
  afterEach(async () => {
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('writes the configuration, instructions, skills and the global config stubs', async () => {
    root = await mkdtemp(join(tmpdir(), 'opencode-prepare-'));
    const ctx = {
      ...context({ root, agentsMd: '# House rules\n' }),
      skills: [
        { name: 'greet', files: [{ path: 'SKILL.md', content: '---\nname: greet\n---\n' }] },
      ],
    };
    await opencodeAdapter.prepare(ctx);
    const config = JSON.parse(readFileSync(join(root, 'agent', 'opencode.json'), 'utf8'));
    expect(config.skills).toEqual({ paths: [join(root, 'agent', 'skills')] });
    expect(readFileSync(join(root, 'agent', 'AGENTS.md'), 'utf8')).toBe('# House rules\n');
    expect(existsSync(join(root, 'agent', 'skills', 'greet', 'SKILL.md'))).toBe(true);
    const global = join(root, 'agent', 'xdg-config', 'opencode');
    expect(existsSync(join(global, 'node_modules'))).toBe(true);
    const lock = JSON.parse(readFileSync(join(global, 'package-lock.json'), 'utf8'));
    expect(Object.keys(lock.packages[''].dependencies)).toEqual(['@opencode-ai/plugin']);
    expect(readFileSync(join(root, 'agent', 'opencode.json'), 'utf8')).not.toContain('sk-the-key');
  });

  it('refuses a base URL without a model: the endpoint has no default model', () => {
    expect(() =>
      opencodeAdapter.modelEndpoint({ baseUrl: 'http://127.0.0.1:9/v1' }, 'OPENAI_API_KEY'),
    ).toThrow(expect.objectContaining({ code: 'invalid_payload' }));
  });
});
