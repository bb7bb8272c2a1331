import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AgentAdapter, AgentContext } from '../adapter.js';
import { writeSkills } from '../skills.js';
import { codexArgs } from './command-args.js';
import { codexConfigToml, OPENAI_BASE_URL } from './config.js';
import { createCodexParser } from './parser.js';

/**
 * OpenAI Codex (`@openai/codex`, pinned in agents/package.json), run as
 * `codex exec --json … -` with the prompt on stdin.
 *
 * `$CODEX_HOME` is the job's agent config dir: `config.toml` (a provider of our own for the
 * endpoint, naming the variable that holds the key; retries capped; analytics, plugins,
 * update checks and bundled skills off), the clanker's instructions as the global
 * `AGENTS.md` Codex reads besides the checkout's own (so the checkout stays untouched), and
 * skills under `skills/`. Codex also keeps its state databases there.
 *
 * `codex exec` has no wall-time option of its own (`ctx.timeLimitMs` is not passed on): the
 * worker's wall-clock and inactivity limits stop it. Read-only phases: see command-args.ts.
 */
export const codexAdapter: AgentAdapter = {
  slug: 'codex',
  displayName: 'Codex',
  binaryName: 'codex',
  installHint: 'install the pinned version with `npm run agents` (agents/package.json)',
  modelKeys: () => ['OPENAI_API_KEY'],
  modelEndpoint: (clanker) => ({ provider: 'openai', baseUrl: clanker.baseUrl ?? OPENAI_BASE_URL }),
  // The first model of 0.171.0's built-in list that an API key may use.
  defaultModel: 'gpt-6.2-sol',

  async prepare(ctx: AgentContext) {
    await mkdir(ctx.configDir, { recursive: true, mode: 0o700 });
    await writeFile(
      join(ctx.configDir, 'config.toml'),
      codexConfigToml({ baseUrl: ctx.model.baseUrl, keyName: ctx.model.keyName }),
      { mode: 0o600 },
    );
    if (ctx.agentsMd)
      await writeFile(join(ctx.configDir, 'AGENTS.md'), ctx.agentsMd, { mode: 0o600 });
    await writeSkills(join(ctx.configDir, 'skills'), ctx.skills);
  },

  command(ctx: AgentContext) {
    const env: Record<string, string> = { ...ctx.baseEnv, CODEX_HOME: ctx.configDir };
    // The model seam: the key only in the environment, under the name config.toml's
    // provider reads it from (env_key); the endpoint is in config.toml.
    env[ctx.model.keyName] = ctx.model.key;
    return {
      file: ctx.binary,
      args: codexArgs({ model: ctx.model.model, phase: ctx.phase }),
      cwd: ctx.checkoutDir,
      env,
      stdin: ctx.prompt,
    };
  },

  createParser: createCodexParser,
};
