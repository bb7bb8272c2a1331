import { execa, type Options } from 'execa';
import { type CommandSpec, signalGroup } from './run-process.js';

/** How a short command ended. */
export interface CommandOutcome {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** stdout as bytes, when the command was run with `bytes: true` (stdout is then ''). */
  stdoutBytes?: Buffer;
}

/** A command that did not end by itself: the limit or the worker's stop ended it. */
export class CommandStoppedError extends Error {
  constructor(
    readonly reason: 'timeout' | 'aborted',
    readonly command: string,
    readonly timeoutMs: number,
  ) {
    super(
      reason === 'timeout'
        ? `${command} did not finish within ${Math.round(timeoutMs / 1000)} s`
        : `${command} was stopped: the worker was asked to stop`,
    );
    this.name = 'CommandStoppedError';
  }
}

/**
 * Runs a short command (git, a helper script) to the end and collects its output. Every run
 * is bounded: at `timeoutMs`, or when `signal` aborts, its process group gets SIGTERM and
 * then SIGKILL, and {@link CommandStoppedError} is thrown. A non-zero exit is returned, not
 * thrown; a command that cannot start throws the spawn error.
 */
export async function runCommand(
  spec: CommandSpec,
  opts: {
    timeoutMs: number;
    signal?: AbortSignal;
    name?: string;
    /** Keep stdout as bytes (`stdoutBytes`): binary output such as git objects. */
    bytes?: boolean;
  },
): Promise<CommandOutcome> {
  const name = opts.name ?? spec.file;
  if (opts.signal?.aborted) throw new CommandStoppedError('aborted', name, opts.timeoutMs);
  // An open file as stdin is handed to the child as is; otherwise the text is written to it.
  const stdin: Options =
    spec.stdinFd === undefined
      ? { input: spec.stdin ?? '' }
      : ({ stdin: spec.stdinFd } as unknown as Options);
  const child = execa(spec.file, spec.args, {
    cwd: spec.cwd,
    env: spec.env,
    extendEnv: false,
    ...stdin,
    // Its own process group, so a stop reaches git's helpers (git-remote-https) too.
    detached: true,
    reject: false,
    stripFinalNewline: false,
    maxBuffer: 256 * 1024 * 1024,
    encoding: opts.bytes ? 'buffer' : 'utf8',
    ...(spec.uid !== undefined ? { uid: spec.uid } : {}),
    ...(spec.gid !== undefined ? { gid: spec.gid } : {}),
  });
  let stopped: 'timeout' | 'aborted' | undefined;
  let killTimer: NodeJS.Timeout | undefined;
  const stop = (reason: 'timeout' | 'aborted') => {
    if (stopped) return;
    stopped = reason;
    signalGroup(child.pid, 'SIGTERM');
    killTimer = setTimeout(() => signalGroup(child.pid, 'SIGKILL'), 2000);
  };
  const timer = setTimeout(() => stop('timeout'), opts.timeoutMs);
  const onAbort = () => stop('aborted');
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const result = await child;
    if (stopped) throw new CommandStoppedError(stopped, name, opts.timeoutMs);
    if (result.exitCode === undefined) {
      throw (result.cause as Error | undefined) ?? new Error(`${name} could not be started`);
    }
    const { stdout, stderr } = result as unknown as {
      stdout: string | Uint8Array;
      stderr: string | Uint8Array;
    };
    const text = (value: string | Uint8Array) =>
      typeof value === 'string' ? value : Buffer.from(value).toString('utf8');
    return {
      exitCode: result.exitCode,
      stdout: opts.bytes ? '' : text(stdout),
      stderr: text(stderr),
      ...(opts.bytes && typeof stdout !== 'string' ? { stdoutBytes: Buffer.from(stdout) } : {}),
    };
  } finally {
    clearTimeout(timer);
    clearTimeout(killTimer);
    opts.signal?.removeEventListener('abort', onAbort);
    signalGroup(child.pid, 'SIGKILL');
    await spec.cleanup?.().catch(() => {});
  }
}
