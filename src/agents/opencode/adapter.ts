import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { AgentAdapter, AgentContext } from '../adapter.js';
import { writeSkills } from '../skills.js';
import { opencodeArgs } from './command-args.js';
import {
  configFile,
  globalConfigStubs,
  instructionsFile,
  opencodeConfig,
  skillsDir,
  xdgConfigHome,
} from './config.js';
import { createOpencodeParser } from './parser.js';
import { opencodeEndpoint, opencodeModelKeys } from './provider.js';

/**
 * OpenCode (`opencode-ai`, pinned in agents/package.json), run headless with
 * `opencode run --format json`, the prompt on stdin. Everything about the job is in one
 * configuration file in the config dir (`OPENCODE_CONFIG`, see config.ts): the provider and
 * model, the key's variable, the permissions of the phase, the instruction files. The
 * clanker's instructions and skills stay in the config dir: the checkout is not touched.
 *
 * OpenCode retries a failed model request (connection refused, 5xx, 429) five times over
 * about a minute, a policy no setting changes; a rejected key (401) ends the run at once.
 * It has no wall-clock option: the worker's limits stop it.
 */
export const opencodeAdapter: AgentAdapter = {
  slug: 'opencode',
  displayName: 'OpenCode',
  binaryName: 'opencode',
  installHint:
    'install the pinned version with `npm run agents` (agents/package.json, opencode-ai)',
  modelKeys: opencodeModelKeys,
  modelEndpoint: opencodeEndpoint,
  // Without a model the provider is OpenAI, whose default in 1.18.33's bundled catalogue
  // is this one.
  defaultModel: 'gpt-5.6-terra',

  async prepare(ctx: AgentContext) {
    await mkdir(ctx.configDir, { recursive: true, mode: 0o700 });
    await writeFile(configFile(ctx), `${JSON.stringify(opencodeConfig(ctx), null, 2)}\n`, {
      mode: 0o600,
    });
    if (ctx.agentsMd) await writeFile(instructionsFile(ctx), ctx.agentsMd, { mode: 0o600 });
    await writeSkills(skillsDir(ctx), ctx.skills);
    const globalDir = join(xdgConfigHome(ctx), 'opencode');
    for (const file of globalConfigStubs()) {
      const path = join(globalDir, file.path);
      await mkdir(dirname(path), { recursive: true, mode: 0o700 });
      await writeFile(path, file.content, { mode: 0o600 });
    }
  },

  command(ctx: AgentContext) {
    const env: Record<string, string> = {
      ...ctx.baseEnv,
      XDG_CONFIG_HOME: xdgConfigHome(ctx),
      OPENCODE_CONFIG: configFile(ctx),
      // The repository's opencode.json and .opencode/ would override the job's provider and
      // permissions (and get plugins installed into the checkout).
      OPENCODE_DISABLE_PROJECT_CONFIG: '1',
      // Offline and quiet: no model catalogue fetch, update check, plugins, language server
      // downloads, sharing, or Claude Code files.
      OPENCODE_DISABLE_MODELS_FETCH: '1',
      OPENCODE_DISABLE_AUTOUPDATE: '1',
      OPENCODE_DISABLE_DEFAULT_PLUGINS: '1',
      OPENCODE_PURE: '1',
      OPENCODE_DISABLE_LSP_DOWNLOAD: '1',
      OPENCODE_DISABLE_SHARE: '1',
      OPENCODE_DISABLE_CLAUDE_CODE: '1',
    };
    // The model seam: the key only here, under the name the configuration refers to.
    env[ctx.model.keyName] = ctx.model.key;
    return {
      file: ctx.binary,
      args: opencodeArgs(),
      cwd: ctx.checkoutDir,
      env,
      stdin: ctx.prompt,
    };
  },

  createParser: createOpencodeParser,
};
