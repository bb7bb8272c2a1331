import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AgentAdapter, AgentContext } from '../adapter.js';
import { writeSkills } from '../skills.js';
import { geminiCliArgs } from './command-args.js';
import { geminiPolicy, geminiSettings } from './config.js';
import { createGeminiCliParser } from './parser.js';

/** The Gemini API: the CLI's endpoint unless the clanker names another. */
const GEMINI_API_BASE_URL = 'https://generativelanguage.googleapis.com';

/** The CLI's user-level folder (`~/.gemini`), moved into the job's config dir. */
function geminiDir(ctx: Pick<AgentContext, 'configDir'>): string {
  return join(ctx.configDir, '.gemini');
}

/**
 * Gemini CLI (`@google/gemini-cli`, pinned in agents/package.json), run headless with
 * `--output-format stream-json` and the prompt on stdin.
 *
 * Everything the CLI keeps lives in the job's config dir (`GEMINI_CLI_HOME`): settings,
 * sessions, the instructions and the skills. The clanker's instructions are the user-level
 * GEMINI.md there, which the CLI loads besides the checkout's own GEMINI.md files: the
 * checkout stays untouched. Skills go to the user-level `skills/` folder.
 */
export const geminiCliAdapter: AgentAdapter = {
  slug: 'gemini-cli',
  displayName: 'Gemini CLI',
  binaryName: 'gemini',
  installHint:
    'install the pinned version with `npm run agents` (agents/package.json, @google/gemini-cli)',
  modelKeys: () => ['GEMINI_API_KEY'],
  modelEndpoint: (clanker) => ({
    provider: 'gemini',
    baseUrl: clanker.baseUrl ?? GEMINI_API_BASE_URL,
  }),
  // 0.61.0's `auto` routes between a Pro and a Flash model: priced as the dearer one.
  defaultModel: 'gemini-3.1-pro-preview',

  async prepare(ctx: AgentContext) {
    const dir = geminiDir(ctx);
    const file = (path: string, content: string) =>
      writeFile(join(dir, path), content, { mode: 0o600 });
    await mkdir(join(dir, 'policies'), { recursive: true, mode: 0o700 });
    await file('settings.json', `${JSON.stringify(geminiSettings(), null, 2)}\n`);
    await file(join('policies', 'viberator.toml'), geminiPolicy({ phase: ctx.phase }));
    if (ctx.agentsMd) await file('GEMINI.md', ctx.agentsMd);
    await writeSkills(join(dir, 'skills'), ctx.skills);
  },

  command(ctx: AgentContext) {
    const args = geminiCliArgs({ model: ctx.model.model, phase: ctx.phase });
    const env: Record<string, string> = {
      ...ctx.baseEnv,
      GEMINI_CLI_HOME: ctx.configDir,
      // The checkout is the job's: trust it for this run (as --skip-trust does).
      GEMINI_CLI_TRUST_WORKSPACE: 'true',
      // One process: by default the CLI starts a second Node with a bigger heap and ignores
      // SIGTERM in the first.
      GEMINI_CLI_NO_RELAUNCH: 'true',
      // Environment wins over settings files, also a repository's .gemini/settings.json.
      GEMINI_TELEMETRY_ENABLED: 'false',
      NO_COLOR: '1',
    };
    // The model seam: the gateway's key only here, and the gateway's URL (the CLI appends
    // /v1beta/models/…).
    env[ctx.model.keyName] = ctx.model.key;
    env.GOOGLE_GEMINI_BASE_URL = ctx.model.baseUrl;
    return { file: ctx.binary, args, cwd: ctx.checkoutDir, env, stdin: ctx.prompt };
  },

  createParser: createGeminiCliParser,
};
