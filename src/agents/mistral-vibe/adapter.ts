import { mkdir, realpath, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { AgentAdapter, AgentContext } from '../adapter.js';
import { writeSkills } from '../skills.js';
import { mistralVibeArgs } from './command-args.js';
import { DEFAULT_MODEL, MISTRAL_API_BASE, vibeConfigToml } from './config.js';
import { createMistralVibeParser } from './parser.js';

/** The version the adapter was written against (upstream tag v2.18.4). */
export const MISTRAL_VIBE_VERSION = '2.18.4';

/**
 * Mistral Vibe (`vibe`, the Python ≥ 3.12 package `mistral-vibe`, upstream
 * mistralai/mistral-vibe). Not an npm package, so not in agents/package.json: it is found on
 * PATH or through VIBERATOR_AGENT_BIN_MISTRAL_VIBE.
 *
 * No launcher: a uv-installed `vibe` is a script whose shebang names the Python of its own
 * virtual environment, which holds its dependencies. Started under the host's python it would
 * miss them (and the host's may be older than 3.12), so the worker execs `vibe` itself.
 *
 * Everything Vibe reads lives in the job's config dir, which is `VIBE_HOME`
 * (`vibe/core/paths/_vibe_home.py`): `config.toml` (the provider naming the key's environment
 * variable, the model, telemetry and update checks off), `AGENTS.md` (Vibe's user-level
 * instructions, `HarnessFilesManager.load_user_doc`) and `skills/<name>/`. Vibe writes its
 * logs there too. The checkout is left alone and not trusted (see command-args.ts).
 *
 * The tests run a fake `vibe` (test/fixtures/agents/mistral-vibe/fake-vibe.mjs): Python 3.12
 * cannot be installed on the machine this adapter was written on. The fake follows upstream's
 * source for flags, config, output and errors.
 */
export const mistralVibeAdapter: AgentAdapter = {
  slug: 'mistral-vibe',
  displayName: 'Mistral Vibe',
  binaryName: 'vibe',
  // vibe reads no prompt on stdin without a TTY: the task waits in ctx.promptFile.
  promptInFile: true,
  installHint:
    `install it with uv (Python ≥ 3.12): \`uv tool install mistral-vibe==${MISTRAL_VIBE_VERSION}\`, ` +
    'with UV_TOOL_DIR, UV_TOOL_BIN_DIR and UV_PYTHON_INSTALL_DIR in directories the agent user ' +
    'can read (e.g. under /opt, the bin dir on PATH)',
  modelKeys: () => ['MISTRAL_API_KEY'],
  modelEndpoint: (clanker) => ({
    provider: 'openai',
    baseUrl: clanker.baseUrl ?? MISTRAL_API_BASE,
  }),
  defaultModel: DEFAULT_MODEL.name,

  async prepare(ctx: AgentContext) {
    await mkdir(ctx.configDir, { recursive: true, mode: 0o700 });
    // Vibe compares the prompt file's resolved path with the allowlist.
    const folder = dirname(ctx.promptFile);
    const resolved = join(await realpath(folder).catch(() => folder), basename(ctx.promptFile));
    const config = vibeConfigToml({
      baseUrl: ctx.model.baseUrl,
      custom: ctx.clanker.baseUrl !== undefined,
      model: ctx.model.model,
      keyEnvVar: ctx.model.keyName,
      promptFiles: [...new Set([ctx.promptFile, resolved])],
    });
    await writeFile(join(ctx.configDir, 'config.toml'), config, { mode: 0o600 });
    if (ctx.agentsMd)
      await writeFile(join(ctx.configDir, 'AGENTS.md'), ctx.agentsMd, { mode: 0o600 });
    await writeSkills(join(ctx.configDir, 'skills'), ctx.skills);
  },

  command(ctx: AgentContext) {
    const env: Record<string, string> = { ...ctx.baseEnv, VIBE_HOME: ctx.configDir };
    // The model seam: the key only here, under the variable config.toml names.
    env[ctx.model.keyName] = ctx.model.key;
    return {
      file: ctx.binary,
      args: mistralVibeArgs({ promptFile: ctx.promptFile, phase: ctx.phase }),
      cwd: ctx.checkoutDir,
      env,
    };
  },

  createParser: createMistralVibeParser,
};
