import { lstatSync, readdirSync, realpathSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { runCommand } from '../process/run-command.js';
import type { AgentIdentity } from './agent-identity.js';
import { agentShell, workerShell } from './agent-shell.js';
import { sharedWritablePlaces } from './shared-places.js';
import { ipcKey, ipcObjectsOf, ipcrmArgs, sysvIpcObjects } from './sysv-ipc.js';

/** How long each cleaning command may take. */
export const TEMP_CLEANUP_TIMEOUT_MS = 30_000;

/**
 * Run as the agent user: `$1` its uid, `$2` the work root (never entered: the job's
 * workspace is cleaned with the workspace), then the places — in one walk of them all. Each
 * entry it owns is handed, not walked into, to one batch that gives its directories their
 * rights back (chmod 000 is no obstacle: `chmod -R` fixes a directory before reading it and
 * never follows a link inside), removes it with what is under it, and prints what survived.
 * `-xdev` keeps to each place's own file system; nothing is followed, so a link of the
 * agent's is removed, never its target.
 */
const AGENT_USER_SCRIPT = `uid=$1 keep=$2
shift 2
[ "$#" -gt 0 ] || exit 0
find "$@" -xdev -mindepth 1 \\( -samefile "$keep" -prune \\) -o \\( -user "$uid" -prune -exec sh -c '
  chmod -R u+rwX -- "$@" 2>/dev/null
  rm -rf --one-file-system -- "$@" 2>/dev/null
  for e in "$@"; do if [ -e "$e" ] || [ -L "$e" ]; then printf "%s\\0" "$e"; fi; done' sh {} + \\) 2>/dev/null
exit 0`;

/** Run as the worker in same-user mode over the new top-level entries given. */
const NEW_ENTRIES_SCRIPT = `for e in "$@"; do
  if [ -d "$e" ] && [ ! -L "$e" ]; then chmod -R u+rwX -- "$e" 2>/dev/null; fi
done
rm -rf --one-file-system -- "$@" 2>/dev/null
exit 0`;

/** Options of {@link AgentTempCleanup.start}. */
export interface AgentTempOptions {
  identity: AgentIdentity;
  /** The work root: never touched here, the job's workspace is inside it. */
  workRoot: string;
  /** Default: the host's {@link sharedWritablePlaces}. */
  places?: string[];
  timeoutMs?: number;
}

/**
 * Nothing of a job waits for the next (runtime.md): what the agent left in the host's shared
 * writable places and its SysV IPC objects are removed when it has ended.
 *
 * With an agent user, everything that user owns there goes, removed *as* that user (it can
 * remove exactly its own; the worker reads nothing of it), before the agent starts (a job
 * whose worker died may have left some) and after it ended. In same-user mode the agent's
 * files cannot be told from the worker's: what was at the top level of each place before the
 * agent started is remembered, and only new top-level entries of the worker's uid and new
 * IPC objects are removed afterwards — never the work root or a directory above it.
 */
export class AgentTempCleanup {
  private constructor(
    private readonly options: Required<AgentTempOptions>,
    private readonly before: { entries: Set<string>; ipc: Set<string> } | undefined,
  ) {}

  /**
   * Call before the agent starts. Returns the problems of the first cleaning (agent-user
   * modes), for the log.
   */
  static async start(
    options: AgentTempOptions,
  ): Promise<{ cleanup: AgentTempCleanup; problems: string[] }> {
    const full: Required<AgentTempOptions> = {
      places: sharedWritablePlaces(),
      timeoutMs: TEMP_CLEANUP_TIMEOUT_MS,
      ...options,
      // find's -samefile needs something that exists; / is never under a place.
      workRoot: exists(options.workRoot) ? realpathSync(options.workRoot) : '/',
    };
    if (full.identity.mode === 'same-user') {
      const before = {
        entries: new Set(full.places.flatMap((place) => topLevel(place).map(entryKey))),
        ipc: new Set(sysvIpcObjects().map(ipcKey)),
      };
      return { cleanup: new AgentTempCleanup(full, before), problems: [] };
    }
    const cleanup = new AgentTempCleanup(full, undefined);
    return { cleanup, problems: await cleanup.clean() };
  }

  /**
   * Call once every process of the agent is gone. Bounded in time; returns what could not be
   * removed (empty when all went), for the log — a leftover does not fail the job.
   */
  async clean(): Promise<string[]> {
    return this.before ? this.cleanNewEntries(this.before) : this.cleanAgentUser();
  }

  private async cleanAgentUser(): Promise<string[]> {
    const { identity, workRoot, places, timeoutMs } = this.options;
    const problems: string[] = [];
    if (places.length > 0) {
      const out = await run(
        agentShell(identity, AGENT_USER_SCRIPT, [String(identity.uid), workRoot, ...places]),
        timeoutMs,
        problems,
      );
      reportLeft(out.split('\0').filter(Boolean), problems);
    }
    const ipc = ipcObjectsOf(identity.uid);
    if (ipc.length > 0) {
      await run(agentShell(identity, 'exec ipcrm "$@"', ipcrmArgs(ipc)), timeoutMs, problems);
    }
    return problems;
  }

  private async cleanNewEntries(before: { entries: Set<string>; ipc: Set<string> }) {
    const { places, workRoot, timeoutMs } = this.options;
    const uid = process.getuid?.() ?? -1;
    const problems: string[] = [];
    const fresh = places
      .flatMap((place) => topLevel(place))
      .filter((entry) => !before.entries.has(entryKey(entry)) && entry.uid === uid)
      .map((entry) => entry.path)
      .filter((path) => !holds(path, workRoot));
    if (fresh.length > 0) {
      await run(workerShell(NEW_ENTRIES_SCRIPT, fresh), timeoutMs, problems);
      reportLeft(
        fresh.filter((path) => exists(path)),
        problems,
      );
    }
    const ipc = ipcObjectsOf(uid).filter((object) => !before.ipc.has(ipcKey(object)));
    if (ipc.length > 0)
      await run(workerShell('exec ipcrm "$@"', ipcrmArgs(ipc)), timeoutMs, problems);
    return problems;
  }
}

interface TopEntry {
  path: string;
  ino: number;
  uid: number;
}

/** The entries directly in `place` (lstat: a link is the link). */
function topLevel(place: string): TopEntry[] {
  const entries: TopEntry[] = [];
  let names: string[];
  try {
    names = readdirSync(place);
  } catch {
    return entries;
  }
  for (const name of names) {
    try {
      const info = lstatSync(join(place, name));
      entries.push({ path: join(place, name), ino: info.ino, uid: info.uid });
    } catch {
      // gone meanwhile
    }
  }
  return entries;
}

/** Name and inode: an entry the agent deleted and made again under the same name is new. */
function entryKey(entry: TopEntry): string {
  return `${entry.path}\0${entry.ino}`;
}

/** Whether `path` is `inner` or a directory above it. */
function holds(path: string, inner: string): boolean {
  const rel = relative(path, inner);
  return rel === '' || (!rel.startsWith('..') && !rel.startsWith(sep) && rel !== inner);
}

function exists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Runs one cleaning command; its stdout, or '' with the reason in `problems`. */
async function run(
  spec: Parameters<typeof runCommand>[0],
  timeoutMs: number,
  problems: string[],
): Promise<string> {
  try {
    const out = await runCommand(spec, { timeoutMs, name: 'the temp files cleanup' });
    if (out.exitCode !== 0) {
      const first = out.stderr.trim().split('\n')[0] ?? '';
      problems.push(`exit code ${out.exitCode}: ${JSON.stringify(first.slice(0, 300))}`);
    }
    return out.stdout;
  } catch (error) {
    problems.push((error as Error).message);
    return '';
  }
}

/** Adds what is still there to `problems`, with a few examples (quoted: names are the agent's). */
function reportLeft(left: string[], problems: string[]): void {
  if (left.length === 0) return;
  const examples = left.slice(0, 3).map((path) => JSON.stringify(path));
  problems.push(`${left.length} left, e.g. ${examples.join(', ')}`);
}
