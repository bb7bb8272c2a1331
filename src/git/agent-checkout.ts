import { rm, writeFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { HOST_NETWORK_VARIABLES, pickHostVariables } from '../config/host-variables.js';
import { WorkerError } from '../errors.js';
import type { AgentIdentity } from '../isolation/agent-identity.js';
import { asAgent } from '../isolation/run-as-agent.js';
import { CommandStoppedError, runCommand } from '../process/run-command.js';
import { stoppedGitError } from './git-runner.js';
import { readAgentFile } from './read-agent-file.js';
import type { GitSetup } from './repository.js';

/** The largest index the checkout may hand over (millions of files stay far below it). */
const INDEX_LIMIT = 1024 * 1024 * 1024;

/**
 * Run as the agent user, before the agent starts and with nothing of the agent's in play:
 * writes the files of HEAD into the checkout (so they are the agent's own) and gives the
 * checkout a git dir of its own that borrows the worker's objects (alternates). The agent can
 * then run git status, diff, log and even commit, while the worker's git dir stays
 * read-only to it. The index written beside the files is handed to the worker ($4) so its
 * later `git add` does not rehash every file. The git dir's files are written directly
 * (HEAD, the branch ref, a config the worker composed): one git process instead of six.
 *
 * Then it places the adapter's instruction files ($8 holds them, the paths follow): a file
 * the repository already has gets the clanker's text appended (a symlink is replaced), and
 * each placed path is hidden from the agent's git — untracked ones through info/exclude,
 * tracked ones with skip-worktree — so neither `git add -A` nor `commit -a` takes them.
 *
 * $1 checkout, $2 worker git dir, $3 the work branch's ref, $4 index handoff, $5 base
 * commit, $6 the config file, $7 the directory of the ref, $8 the staged instruction files,
 * then the paths of those files relative to the checkout.
 */
const SCRIPT = `set -e
cd "$1" 2>/dev/null || { echo "viberator: the agent user cannot enter $1: every directory above VIBERATOR_WORK_ROOT must be searchable by it" >&2; exit 97; }
GIT_INDEX_FILE="$4" git --git-dir="$2" --work-tree="$1" read-tree --reset -u HEAD
mkdir -p .git/objects/info .git/objects/pack .git/refs/tags .git/info "$7"
printf '%s\n' "$2/objects" > .git/objects/info/alternates
printf '%s\n' "$5" > ".git/$3"
printf 'ref: %s\n' "$3" > .git/HEAD
printf '%s' "$6" > .git/config
if [ -f "$2/shallow" ]; then cp "$2/shallow" .git/shallow; fi
cp "$4" .git/index
stage="$8"
shift 8
for p in "$@"; do
  mkdir -p "$(dirname -- "$p")"
  if [ -L "$p" ]; then rm -f -- "$p"; fi
  if [ -f "$p" ]; then printf '\n\n' >> "$p"; fi
  cat -- "$stage/$p" >> "$p"
  if git ls-files --error-unmatch -- "$p" >/dev/null 2>&1; then
    git update-index --skip-worktree -- "$p"
  else
    printf '/%s\n' "$p" >> .git/info/exclude
  fi
done
`;

/** A config file value in git's quoting: `"` and `\` escaped, the whole in quotes. */
function configValue(value: string): string {
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`).replace(/\n/g, '\\n')}"`;
}

/** The agent's checkout config: a plain repository with the worker's commit identity. */
function agentConfig(author: { name: string; email: string }): string {
  return [
    '[core]',
    '\trepositoryformatversion = 0',
    '\tfilemode = true',
    '\tbare = false',
    '\tlogallrefupdates = true',
    '[user]',
    `\tname = ${configValue(author.name)}`,
    `\temail = ${configValue(author.email)}`,
    '',
  ].join('\n');
}

/**
 * Fills the agent's checkout from the worker's clone, as the agent user, and adopts the
 * index it wrote. A failure is `clone_failed` (not retryable when the agent user cannot
 * reach the workspace: that is the host's setup).
 */
export async function checkOutForAgent(
  setup: GitSetup,
  identity: AgentIdentity,
  opts: {
    workBranch: string;
    baseSha: string;
    agentTmp: string;
    /** Instruction files to place: the directory they are staged in, and their paths. */
    placed?: { stageDir: string; paths: string[] };
  },
): Promise<void> {
  const handoff = join(opts.agentTmp, '.viberator-index');
  const env: Record<string, string> = {
    ...pickHostVariables(setup.hostEnv, HOST_NETWORK_VARIABLES),
    HOME: opts.agentTmp,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_ATTR_NOSYSTEM: '1',
    GIT_TERMINAL_PROMPT: '0',
    // The worker's git dir is not the agent's: reading it needs safe.directory.
    GIT_CONFIG_COUNT: '3',
    GIT_CONFIG_KEY_0: 'safe.directory',
    GIT_CONFIG_VALUE_0: '*',
    GIT_CONFIG_KEY_1: 'core.hooksPath',
    GIT_CONFIG_VALUE_1: '/dev/null',
    GIT_CONFIG_KEY_2: 'core.fsmonitor',
    GIT_CONFIG_VALUE_2: 'false',
  };
  const spec = await asAgent(
    identity,
    {
      file: '/bin/sh',
      args: [
        '-c',
        SCRIPT,
        'sh',
        setup.workTree,
        setup.gitDir,
        `refs/heads/${opts.workBranch}`,
        handoff,
        opts.baseSha,
        agentConfig(setup.author),
        posix.dirname(`.git/refs/heads/${opts.workBranch}`),
        opts.placed?.stageDir ?? '/nonexistent',
        ...(opts.placed?.paths ?? []),
      ],
      cwd: opts.agentTmp,
      env,
    },
    opts.agentTmp,
  );
  let outcome: Awaited<ReturnType<typeof runCommand>>;
  try {
    outcome = await runCommand(spec, {
      timeoutMs: setup.limits.localMs,
      signal: setup.signal,
      name: 'the checkout',
    });
  } catch (error) {
    if (error instanceof CommandStoppedError)
      throw stoppedGitError(error, 'clone_failed', 'checkout');
    throw error;
  }
  if (outcome.exitCode !== 0) {
    const text = outcome.stderr.trim().split('\n').slice(-3).join(' | ');
    // The host's setup, not the repository: a retry on the same host fails the same way.
    const setupProblem = outcome.exitCode === 97 || /sudo:|Permission denied/.test(text);
    const hint = setupProblem
      ? `; the agent user (${identity.label}) must be able to pass through every directory above VIBERATOR_WORK_ROOT`
      : '';
    throw new WorkerError('clone_failed', `checkout as the agent user failed: ${text}${hint}`, {
      retryable: !setupProblem,
    });
  }
  // Written by git with the worker's settings before the agent ran: trusted, and copied so
  // the agent cannot change the worker's copy later. Read as data all the same (no link).
  const index = await readAgentFile(handoff, INDEX_LIMIT);
  if (!index) throw new WorkerError('clone_failed', 'checkout as the agent user wrote no index');
  await writeFile(join(setup.gitDir, 'index'), index);
  await rm(handoff, { force: true });
}
