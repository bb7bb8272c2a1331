import { execa } from 'execa';
import { LineSplitter } from './line-splitter.js';

/** A command as data: what to run, with what, where. */
export interface CommandSpec {
  file: string;
  args: string[];
  cwd: string;
  /** The whole environment of the child: nothing is inherited. */
  env: Record<string, string>;
  /** Written to stdin, which is then closed. */
  stdin?: string;
  /** An open file to read stdin from instead (the caller opened it safely and closes it). */
  stdinFd?: number;
  /** Run as this uid/gid (the worker is root). */
  uid?: number;
  gid?: number;
  /** Called once the process has ended (or failed to start): removes what the spec needed. */
  cleanup?: () => Promise<void>;
}

export interface RunLimits {
  /** Wall-clock limit in ms. */
  wallClockMs: number;
  /** Longest silence (no output on stdout or stderr) in ms. */
  inactivityMs: number;
  /** Time between SIGTERM and SIGKILL. */
  killGraceMs: number;
  /** Aborting (SIGTERM to the worker) stops the process the same way. */
  signal?: AbortSignal;
  /**
   * Time between SIGTERM and SIGKILL when the stop comes from `signal` (default
   * `killGraceMs`); the shorter of the two applies. Whoever stopped the worker is waiting.
   */
  abortGraceMs?: number;
  /**
   * How long output may still arrive after the main process exited (a child holding its
   * stdout open must not keep the run going); default 2 s.
   */
  drainMs?: number;
  /**
   * Also called when the process is stopped, besides signalling its process group: reaches
   * processes that left the group (the agent user's every process).
   */
  signalAll?: (signal: 'TERM' | 'KILL') => void | Promise<void>;
}

export type StopReason = 'wall_clock' | 'inactivity' | 'aborted';

export interface ProcessOutcome {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the worker stopped the process. */
  stoppedBy?: StopReason;
  /** Set when the process could not be started at all (ENOENT, EACCES). */
  spawnError?: NodeJS.ErrnoException;
  durationMs: number;
  /** Process group of the process (its pid), for whoever cleans up after it. */
  pgid?: number;
}

const DEFAULT_DRAIN_MS = 2000;

/**
 * Runs one process in its own process group (`detached`, no shell), feeds it stdin, hands
 * every output line to `onLine`, and enforces a wall-clock and an inactivity limit: at a
 * limit the whole group gets SIGTERM, then SIGKILL after the grace period. The run ends when
 * the main process exits (plus a short drain for output still in the pipes): whatever is
 * left of its group is then killed, so no orphan outlives the run.
 */
export async function runProcess(
  spec: CommandSpec,
  limits: RunLimits,
  onLine: (line: string, stream: 'stdout' | 'stderr') => void,
): Promise<ProcessOutcome> {
  const started = Date.now();
  const child = execa(spec.file, spec.args, {
    cwd: spec.cwd,
    env: spec.env,
    extendEnv: false,
    input: spec.stdin ?? '',
    detached: true,
    buffer: false,
    reject: false,
    stripFinalNewline: false,
    cleanup: true,
    ...(spec.uid !== undefined ? { uid: spec.uid } : {}),
    ...(spec.gid !== undefined ? { gid: spec.gid } : {}),
  });
  const pid = child.pid;

  let stoppedBy: StopReason | undefined;
  let exited = false;
  let killTimer: NodeJS.Timeout | undefined;
  let drainTimer: NodeJS.Timeout | undefined;
  const signalEverything = (signal: 'TERM' | 'KILL') => {
    signalGroup(pid, signal === 'TERM' ? 'SIGTERM' : 'SIGKILL');
    void Promise.resolve(limits.signalAll?.(signal)).catch(() => {});
  };
  const stop = (reason: StopReason) => {
    if (stoppedBy || exited) return;
    stoppedBy = reason;
    signalEverything('TERM');
    const grace =
      reason === 'aborted'
        ? Math.min(limits.killGraceMs, limits.abortGraceMs ?? limits.killGraceMs)
        : limits.killGraceMs;
    killTimer = setTimeout(() => signalEverything('KILL'), grace);
  };

  const wallTimer = setTimeout(() => stop('wall_clock'), limits.wallClockMs);
  let idleTimer = setTimeout(() => stop('inactivity'), limits.inactivityMs);
  const onAbort = () => stop('aborted');
  if (limits.signal?.aborted) onAbort();
  limits.signal?.addEventListener('abort', onAbort, { once: true });

  const splitters = (['stdout', 'stderr'] as const).map((stream) => {
    const splitter = new LineSplitter((line) => onLine(line, stream));
    child[stream]?.on('data', (chunk: Buffer) => {
      clearTimeout(idleTimer);
      if (!stoppedBy && !exited)
        idleTimer = setTimeout(() => stop('inactivity'), limits.inactivityMs);
      splitter.push(chunk);
    });
    return splitter;
  });

  // The main process exiting ends the run: limits no longer apply, and a descendant that
  // still holds stdout open gets a short drain, then is killed with the rest of the group.
  child.once('exit', () => {
    exited = true;
    clearTimeout(wallTimer);
    clearTimeout(idleTimer);
    drainTimer = setTimeout(() => {
      signalEverything('KILL');
      child.stdout?.destroy();
      child.stderr?.destroy();
    }, limits.drainMs ?? DEFAULT_DRAIN_MS);
  });

  const result = await child;
  for (const splitter of splitters) splitter.end();
  clearTimeout(wallTimer);
  clearTimeout(idleTimer);
  clearTimeout(killTimer);
  clearTimeout(drainTimer);
  limits.signal?.removeEventListener('abort', onAbort);
  signalGroup(pid, 'SIGKILL');
  await spec.cleanup?.().catch(() => {});

  const spawnError =
    result.failed && result.exitCode === undefined && !result.signal && !exited
      ? (result.cause as NodeJS.ErrnoException | undefined)
      : undefined;
  return {
    exitCode: result.exitCode ?? null,
    signal: (result.signal as NodeJS.Signals | undefined) ?? null,
    stoppedBy,
    spawnError,
    durationMs: Date.now() - started,
    pgid: pid,
  };
}

/** Signals a whole process group; a group that is already gone is fine. */
export function signalGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (!pid) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: nothing left in the group; EPERM: members of another user (signalAll reaches them).
  }
}
