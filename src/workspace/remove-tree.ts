import { randomBytes } from 'node:crypto';
import { lstat, readdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { AgentIdentity } from '../isolation/agent-identity.js';
import { agentShell, workerShell } from '../isolation/agent-shell.js';
import { runCommand } from '../process/run-command.js';

/** How long each pass of a removal may take before the tree is moved aside instead. */
export const REMOVAL_PASS_TIMEOUT_MS = 60_000;

/** The name prefix of a workspace moved aside because it could not be removed. */
export const TRASH_PREFIX = '.viberator-trash-';

/**
 * Run as the agent user over its directories: give it back every right on what it owns
 * (`chmod -R u+rwX` fixes a directory before reading it, so chmod 000 is no obstacle; links
 * met inside are never followed), then remove their contents. Both use fts, so depth is no
 * limit. A top that is a link is skipped: its target is not the agent's to clear.
 */
const CLEAR_AGENT_DIRS = `for d in "$@"; do
  [ -d "$d" ] && [ ! -L "$d" ] || continue
  chmod -R u+rwX -- "$d" 2>/dev/null
  find "$d" -mindepth 1 -maxdepth 1 -exec rm -rf --one-file-system -- {} + 2>/dev/null
done
exit 0`;

/**
 * Run as the worker over the whole tree: root needs no mode bits; any other worker gives
 * itself back the rights on what it owns first (in same-user mode that is everything).
 */
function removeTreeScript(identity: AgentIdentity): string {
  const remove = 'exec rm -rf --one-file-system -- "$1"';
  return identity.mode === 'root' ? remove : `chmod -R u+rwX -- "$1" 2>/dev/null; ${remove}`;
}

/** What a removal came to: gone, or moved aside to `trash` (which may remain). */
export type RemovalOutcome = { removed: true } | { removed: false; trash: string; why: string };

/**
 * Removes a job's workspace whatever the agent made of it: any depth, any mode bits, files of
 * the agent user. With sudo the agent user first clears its own directories (the worker may
 * not remove its files); then the worker removes the tree with GNU `rm -rf`, which, unlike
 * Node's recursive rm, does not build paths past PATH_MAX. Each pass is bounded in time.
 * If the tree is still there, it is renamed within its parent to a trash name so the job's
 * path is free (a retry must never fail on an earlier attempt's leftovers); the trash is
 * removed best effort by {@link sweepTrash}.
 */
export async function removeTree(
  root: string,
  identity: AgentIdentity,
  agentDirs: string[],
): Promise<RemovalOutcome> {
  if (!(await present(root))) return { removed: true };
  // The common case, without a process: root (or the agent's own user) removes an ordinary
  // tree in-process. What that cannot do (a chain past PATH_MAX, modes the worker may not
  // override) falls to the passes below, which can.
  if (
    identity.mode !== 'sudo' &&
    (await rm(root, { recursive: true, force: true }).then(
      () => true,
      () => false,
    ))
  )
    return { removed: true };
  let why = '';
  if (identity.mode === 'sudo') {
    why = await attempt(
      agentShell(identity, CLEAR_AGENT_DIRS, agentDirs),
      'clearing as the agent user',
    );
  }
  const worker = await attempt(workerShell(removeTreeScript(identity), [root]), 'rm -rf');
  if (!(await present(root))) return { removed: true };
  why = [why, worker].filter(Boolean).join('; ') || 'rm -rf left files behind';
  const trash = join(
    dirname(root),
    `${TRASH_PREFIX}${basename(root)}-${randomBytes(4).toString('hex')}`,
  );
  await rename(root, trash);
  return { removed: false, trash, why };
}

/**
 * Removes, best effort and each bounded in time, what earlier removals moved aside in
 * `parent`. Returns the trash entries that are still there.
 */
export async function sweepTrash(
  parent: string,
  identity: AgentIdentity,
  agentDirNames: string[],
): Promise<string[]> {
  const left: string[] = [];
  const entries = await readdir(parent).catch(() => [] as string[]);
  for (const name of entries.filter((entry) => entry.startsWith(TRASH_PREFIX))) {
    const trash = join(parent, name);
    if (identity.mode === 'sudo') {
      const dirs = agentDirNames.map((dir) => join(trash, dir));
      await attempt(agentShell(identity, CLEAR_AGENT_DIRS, dirs), 'clearing trash');
    }
    await attempt(workerShell(removeTreeScript(identity), [trash]), 'rm -rf');
    if (await present(trash)) left.push(trash);
  }
  return left;
}

async function present(path: string): Promise<boolean> {
  return lstat(path).then(
    () => true,
    () => false,
  );
}

/** Runs one pass; returns why it failed ('' when it did not). */
async function attempt(spec: Parameters<typeof runCommand>[0], name: string): Promise<string> {
  try {
    const out = await runCommand(spec, { timeoutMs: REMOVAL_PASS_TIMEOUT_MS, name });
    if (out.exitCode === 0) return '';
    // Its first complaint, quoted: it may name a file of the agent's (never its content),
    // and a name with a line break must not start a line of the log.
    const first = out.stderr.trim().split('\n')[0] ?? '';
    return `${name} exited ${out.exitCode}${first ? `: ${JSON.stringify(first.slice(0, 300))}` : ''}`;
  } catch (error) {
    return (error as Error).message;
  }
}
