import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { sandboxContext } from '../../../test/support/agent-sandbox.js';
import type { Phase } from '../../payload/templates.js';
import type { AgentContext } from '../adapter.js';
import { codexAdapter } from './adapter.js';
import { codexArgs } from './command-args.js';
import { codexConfigToml, OPENAI_BASE_URL } from './config.js';

const KEY = 'sk-secret-value-123';
let roots: string[] = [];

afterEach(async () => {
  await Promise.all(roots.map((root) => rm(root, { recursive: true, force: true })));
  roots = [];
});

async function context(over: { baseUrl?: string; model?: string; phase?: Phase } = {}) {
  const root = await mkdtemp(join(tmpdir(), 'codex-adapter-'));
  roots.push(root);
  const ctx: AgentContext = {
    ...sandboxContext(root, {
      agent: 'codex',
      binary: '/agents/codex',
      prompt: 'Fix the bug "now".',
      keyName: 'OPENAI_API_KEY',
      key: KEY,
      baseUrl: over.baseUrl,
      model: over.model,
      agentsMd: '# House rules\n',
      phase: over.phase,
    }),
    skills: [{ name: 'deploy', files: [{ path: 'SKILL.md', content: '# Deploy\n' }] }],
  };
  return ctx;
}

describe('Codex adapter', () => {
  it('writes config.toml, AGENTS.md and skills into $CODEX_HOME, never the key', async () => {
    const ctx = await context({ baseUrl: 'http://127.0.0.1:4000/v1' });
    await codexAdapter.prepare(ctx);
    const config = await readFile(join(ctx.configDir, 'config.toml'), 'utf8');
    expect(config).toContain('model_provider = "viberator"');
    expect(config).toContain('base_url = "http://127.0.0.1:4000/v1"');
    expect(config).toContain('env_key = "OPENAI_API_KEY"');
    expect(config).toContain('request_max_retries = 2');
    expect(config).not.toContain(KEY);
    expect(await readFile(join(ctx.configDir, 'AGENTS.md'), 'utf8')).toBe('# House rules\n');
    expect(await readFile(join(ctx.configDir, 'skills', 'deploy', 'SKILL.md'), 'utf8')).toBe(
      '# Deploy\n',
    );
    // Nothing goes into the checkout: the repository's own AGENTS.md stays as it is.
    expect(codexAdapter.checkoutFiles).toBeUndefined();
    expect(existsSync(join(ctx.checkoutDir, 'AGENTS.md'))).toBe(false);
  });

  it("uses OpenAI's endpoint when the clanker names none", async () => {
    const ctx = await context();
    await codexAdapter.prepare(ctx);
    const config = await readFile(join(ctx.configDir, 'config.toml'), 'utf8');
    expect(config).toContain(`base_url = "${OPENAI_BASE_URL}"`);
  });

  it('puts the key only in the environment, under the name config.toml reads', async () => {
    const ctx = await context({ model: 'gpt-5.5' });
    const command = codexAdapter.command(ctx);
    expect(command.env.OPENAI_API_KEY).toBe(KEY);
    expect(command.env.CODEX_HOME).toBe(ctx.configDir);
    expect(command.env.HOME).toBe(ctx.homeDir);
    expect(command.args.join(' ')).not.toContain(KEY);
    expect(command.stdin).toBe(ctx.prompt);
    expect(command.args).not.toContain(ctx.prompt);
    expect(command.args.at(-1)).toBe('-');
    expect(command.cwd).toBe(ctx.checkoutDir);
    expect(command.args).toEqual(codexArgs({ model: 'gpt-5.5', phase: 'execution' }));
    expect(command.args).toContain('--dangerously-bypass-approvals-and-sandbox');
  });

  it('runs research and planning in the read-only sandbox', async () => {
    for (const phase of ['research', 'planning'] as const) {
      const args = codexAdapter.command(await context({ phase })).args;
      expect(args).toEqual(expect.arrayContaining(['--sandbox', 'read-only']));
      expect(args).not.toContain('--dangerously-bypass-approvals-and-sandbox');
    }
    for (const phase of ['execution', 'claw'] as const) {
      const args = codexAdapter.command(await context({ phase })).args;
      expect(args).not.toContain('read-only');
    }
  });

  it('leaves the model to the CLI when the clanker names none', () => {
    expect(codexArgs()).toEqual([
      'exec',
      '--json',
      '--skip-git-repo-check',
      '--ephemeral',
      '--dangerously-bypass-approvals-and-sandbox',
      '-',
    ]);
  });

  it('accepts the OpenAI key only', () => {
    expect(codexAdapter.modelKeys({})).toEqual(['OPENAI_API_KEY']);
  });
});

describe('Codex config.toml', () => {
  it('quotes values as TOML basic strings', () => {
    const config = codexConfigToml({ baseUrl: 'http://h/"x"\\y', keyName: 'OPENAI_API_KEY' });
    expect(config).toContain('base_url = "http://h/\\"x\\"\\\\y"');
  });

  it('keeps root keys before the first table', () => {
    const lines = codexConfigToml({ baseUrl: 'http://127.0.0.1:1/v1', keyName: 'K' }).split('\n');
    const firstTable = lines.findIndex((l) => l.startsWith('['));
    const rootKeys = lines.filter((l, i) => /^\w+ = /.test(l) && i < firstTable);
    expect(rootKeys.map((l) => l.split(' ')[0])).toEqual([
      'model_provider',
      'approval_policy',
      'check_for_update_on_startup',
    ]);
  });
});
