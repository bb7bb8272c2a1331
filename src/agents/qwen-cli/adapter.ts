import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AgentAdapter, AgentContext } from '../adapter.js';
import { writeSkills } from '../skills.js';
import { qwenCliArgs } from './command-args.js';
import { qwenBaseUrl, qwenModelKeys, qwenSettings } from './config.js';
import { createQwenCliParser } from './parser.js';

/**
 * Qwen Code (`@qwen-code/qwen-code`, pinned in agents/package.json), on the OpenAI-compatible
 * Chat Completions API. `QWEN_HOME` is the job's agent config dir: it holds the settings,
 * the instructions (a user-level QWEN.md, which the CLI reads besides the checkout's own, so
 * the checkout stays untouched) and the skills, and takes the CLI's state. The prompt goes on
 * stdin; the key only in the environment.
 */
export const qwenCliAdapter: AgentAdapter = {
  slug: 'qwen-cli',
  displayName: 'Qwen Code',
  binaryName: 'qwen',
  installHint:
    'install the pinned version with `npm run agents` (agents/package.json, @qwen-code/qwen-code)',
  modelKeys: (clanker) => qwenModelKeys(clanker),
  modelEndpoint: (clanker, keyName) => ({
    provider: 'openai',
    baseUrl: qwenBaseUrl({ keyName, baseUrl: clanker.baseUrl }),
  }),
  // 0.24.4's default for `--auth-type openai`.
  defaultModel: 'qwen3.7-max',

  async prepare(ctx: AgentContext) {
    await mkdir(ctx.configDir, { recursive: true, mode: 0o700 });
    await writeFile(
      join(ctx.configDir, 'settings.json'),
      `${JSON.stringify(qwenSettings(), null, 2)}\n`,
      { mode: 0o600 },
    );
    if (ctx.agentsMd)
      await writeFile(join(ctx.configDir, 'QWEN.md'), ctx.agentsMd, { mode: 0o600 });
    await writeSkills(join(ctx.configDir, 'skills'), ctx.skills);
  },

  command(ctx: AgentContext) {
    const args = qwenCliArgs({ phase: ctx.phase, timeLimitMs: ctx.timeLimitMs });
    const env: Record<string, string> = {
      ...ctx.baseEnv,
      QWEN_HOME: ctx.configDir,
      // Run in this process: no relaunch with other heap flags.
      QWEN_CODE_NO_RELAUNCH: 'true',
      // Usage statistics off even if the checkout's own .qwen/settings.json turns them on.
      QWEN_USAGE_STATISTICS_ENABLED: 'false',
      // The agent user and its workspace are the sandbox; the notice is noise in the log.
      QWEN_CODE_SUPPRESS_YOLO_WARNING: '1',
      // The model seam: `--auth-type openai` reads these three. The gateway's key goes under
      // OPENAI_API_KEY whichever key it stands for; the endpoint is always explicit (the CLI
      // would fill an unset one from `.env` files in the checkout).
      OPENAI_API_KEY: ctx.model.key,
      OPENAI_BASE_URL: ctx.model.baseUrl,
    };
    if (ctx.model.model) env.OPENAI_MODEL = ctx.model.model;
    return { file: ctx.binary, args, cwd: ctx.checkoutDir, env, stdin: ctx.prompt };
  },

  createParser: createQwenCliParser,
};
