import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { WorkerError } from '../../errors.js';
import type { AgentAdapter, AgentContext } from '../adapter.js';
import { writeSkills } from '../skills.js';
import { isReadOnlyPhase, kimiCodeArgs, kimiHome, readOnlyAgentPath } from './command-args.js';
import {
  KIMI_DEFAULT_MODEL,
  kimiConfigToml,
  kimiEnv,
  MOONSHOT_BASE_URL,
  readOnlyAgentFile,
} from './config.js';
import { createKimiCodeParser } from './parser.js';

const INSTALL_HINT = 'install the pinned version with `npm run agents` (agents/package.json)';

/**
 * Kimi Code (`@moonshot-ai/kimi-code`, pinned in agents/package.json), a JS CLI that needs
 * Node ≥ 22.19: the worker finds one (the pinned npm package `node` puts it beside `kimi`)
 * and the command is `<node> <kimi> -p …`. That Node is not put on the agent's PATH: the
 * commands the agent runs in the repository keep the host's own Node, and Kimi itself
 * starts no `node` of its own (only plugin MCP servers would, and a job has none).
 *
 * Everything Kimi keeps lives in `KIMI_CODE_HOME`, inside the workspace: config.toml (the
 * prompt hook, telemetry off), the clanker's instructions as the user-level `AGENTS.md`
 * (Kimi reads it besides the checkout's own AGENTS.md, so the checkout stays untouched),
 * skills under `skills/`, and the session it writes.
 *
 * The prompt never reaches argv: `-p` carries a fixed pointer to the prompt file, and a
 * UserPromptSubmit hook appends the file's text to the conversation (see command-args.ts).
 */
export const kimiCodeAdapter: AgentAdapter = {
  slug: 'kimi-code',
  displayName: 'Kimi Code',
  binaryName: 'kimi',
  // -p is the only way in, and argv is readable by every process: the task waits in
  // ctx.promptFile, which a UserPromptSubmit hook hands to the model (command-args.ts).
  promptInFile: true,
  installHint: INSTALL_HINT,
  launcher: {
    program: 'node',
    minVersion: '22.19.0',
    versionArgs: ['--version'],
    installHint: `${INSTALL_HINT}, which includes Node 22`,
  },
  modelKeys: () => ['KIMI_API_KEY'],
  modelEndpoint: (clanker) => ({
    provider: 'openai',
    baseUrl: clanker.baseUrl ?? MOONSHOT_BASE_URL,
  }),
  defaultModel: KIMI_DEFAULT_MODEL,

  async prepare(ctx: AgentContext) {
    const home = kimiHome(ctx.configDir);
    await mkdir(home, { recursive: true, mode: 0o700 });
    await writeFile(join(home, 'config.toml'), kimiConfigToml(ctx.promptFile), { mode: 0o600 });
    if (ctx.agentsMd) await writeFile(join(home, 'AGENTS.md'), ctx.agentsMd, { mode: 0o600 });
    await writeSkills(join(home, 'skills'), ctx.skills);
    if (isReadOnlyPhase(ctx.phase)) {
      await writeFile(readOnlyAgentPath(ctx.configDir), readOnlyAgentFile(), { mode: 0o600 });
    }
  },

  command(ctx: AgentContext) {
    // The worker always locates the launcher the adapter declares; the host's Node (20)
    // cannot run the CLI, so there is no falling back to it.
    if (!ctx.launcher) {
      throw new WorkerError(
        'agent_unavailable',
        `Kimi Code needs node ≥ 22.19 and none was located: ${INSTALL_HINT}`,
      );
    }
    // Node resolves the bin symlink itself: the script runs from its package, as installed.
    const args = kimiCodeArgs({
      promptFile: ctx.promptFile,
      configDir: ctx.configDir,
      phase: ctx.phase,
    });
    return {
      file: ctx.launcher,
      args: [ctx.binary, ...args],
      cwd: ctx.checkoutDir,
      env: kimiEnv(ctx),
    };
  },

  createParser: createKimiCodeParser,
};
