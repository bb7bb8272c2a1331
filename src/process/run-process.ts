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
}

/**
 * Runs one process in its own process group (`detached`, no shell), feeds it stdin, hands
 * every output line to `onLine`, and enforces a wall-clock and an inactivity limit: at a
 * limit the whole group gets SIGTERM, then SIGKILL after the grace period. When the process
 * ends, whatever is left of its group is killed, so no orphan outlives the run.
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
  });
  const pid = child.pid;

  let stoppedBy: StopReason | undefined;
  let killTimer: NodeJS.Timeout | undefined;
  const stop = (reason: StopReason) => {
    if (stoppedBy) return;
    stoppedBy = reason;
    signalGroup(pid, 'SIGTERM');
    killTimer = setTimeout(() => signalGroup(pid, 'SIGKILL'), limits.killGraceMs);
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
      if (!stoppedBy) idleTimer = setTimeout(() => stop('inactivity'), limits.inactivityMs);
      splitter.push(chunk);
    });
    return splitter;
  });

  const result = await child;
  for (const splitter of splitters) splitter.end();
  clearTimeout(wallTimer);
  clearTimeout(idleTimer);
  clearTimeout(killTimer);
  limits.signal?.removeEventListener('abort', onAbort);
  signalGroup(pid, 'SIGKILL');

  const spawnError =
    result.failed && result.exitCode === undefined && !result.signal
      ? (result.cause as NodeJS.ErrnoException | undefined)
      : undefined;
  return {
    exitCode: result.exitCode ?? null,
    signal: (result.signal as NodeJS.Signals | undefined) ?? null,
    stoppedBy,
    spawnError,
    durationMs: Date.now() - started,
  };
}

/** Signals a whole process group; a group that is already gone is fine. */
function signalGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (!pid) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: nothing left in the group.
  }
}
