import { mkdir, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { AgentAdapter, AgentContext } from '../adapter.js';
import { writeSkills } from '../skills.js';
import { claudeCodeArgs } from './command-args.js';
import { createClaudeCodeParser } from './parser.js';

/** Anthropic's API: the CLI's endpoint unless the clanker names another. */
const ANTHROPIC_BASE_URL = 'https://api.anthropic.com';

/**
 * Claude Code, the one agent the worker ships (`@anthropic-ai/claude-code`, pinned).
 * Instructions and skills go to the user-level config dir (`CLAUDE_CONFIG_DIR`), which the
 * CLI reads besides the checkout's own CLAUDE.md: the checkout stays untouched.
 */
export const claudeCodeAdapter: AgentAdapter = {
  slug: 'claude-code',
  displayName: 'Claude Code',
  binaryName: 'claude',
  installHint: 'it ships with the worker: run `npm ci` in the worker',
  modelKeys: () => ['ANTHROPIC_API_KEY', 'CLAUDE_CODE_OAUTH_TOKEN'],
  // An API key goes upstream as x-api-key, a subscription token as Bearer.
  modelEndpoint: (clanker, keyName) => ({
    provider: 'anthropic',
    baseUrl: clanker.baseUrl ?? ANTHROPIC_BASE_URL,
    keyPlacement: keyName === 'CLAUDE_CODE_OAUTH_TOKEN' ? 'bearer' : 'api-key',
  }),
  // With an API key and no model, 2.1.331 runs its `opus` alias.
  defaultModel: 'claude-opus-5-5',
  bundledBinary() {
    try {
      const manifest = createRequire(import.meta.url).resolve(
        '@anthropic-ai/claude-code/package.json',
      );
      return join(dirname(manifest), 'bin', 'claude.exe');
    } catch {
      return undefined;
    }
  },

  async prepare(ctx: AgentContext) {
    await mkdir(ctx.configDir, { recursive: true, mode: 0o700 });
    if (ctx.agentsMd)
      await writeFile(join(ctx.configDir, 'CLAUDE.md'), ctx.agentsMd, { mode: 0o600 });
    await writeSkills(join(ctx.configDir, 'skills'), ctx.skills);
  },

  command(ctx: AgentContext) {
    const args = claudeCodeArgs({ model: ctx.model.model, phase: ctx.phase });
    const env: Record<string, string> = {
      ...ctx.baseEnv,
      CLAUDE_CONFIG_DIR: ctx.configDir,
      // Offline and quiet: no telemetry, update checks or error reports.
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
      DISABLE_TELEMETRY: '1',
      DISABLE_AUTOUPDATER: '1',
      DISABLE_ERROR_REPORTING: '1',
      // The CLI retries even a 401 ten times by default; the worker's limits stop the rest.
      CLAUDE_CODE_MAX_RETRIES: '2',
    };
    // The model seam: the gateway's key under the variable the real key came as (the CLI
    // sends an API key as x-api-key, an OAuth token as Bearer), and the gateway's URL.
    env[ctx.model.keyName] = ctx.model.key;
    env.ANTHROPIC_BASE_URL = ctx.model.baseUrl;
    return { file: ctx.binary, args, cwd: ctx.checkoutDir, env, stdin: ctx.prompt };
  },

  createParser: createClaudeCodeParser,
};
