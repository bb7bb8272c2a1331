import type { Failure } from '../errors.js';

/** Why the job's abort signal fired: a signal to the worker, or the platform's cancel. */
export type StopRequest = { by: 'signal'; signal: NodeJS.Signals } | { by: 'platform' };

/**
 * Longest time between SIGTERM and SIGKILL for an agent stopped because the job was asked to
 * stop (SIGTERM to the worker, the platform's cancel), whatever `VIBERATOR_KILL_GRACE` says:
 * ECS gives a stopped task 30 s, Spot two minutes' notice, and `cancelled` must be reported
 * within 10 s of the signal. The full grace still applies at a time limit, where nobody waits.
 */
export const STOP_KILL_GRACE_MS = 3000;

/** Whether the platform asked for the stop (an events answer with `"cancel": true`). */
export function stoppedByPlatform(signal: AbortSignal | undefined): boolean {
  return Boolean(signal?.aborted && (signal.reason as StopRequest | undefined)?.by === 'platform');
}

/**
 * A `cancelled` failure as the platform must see it: when the platform asked for the stop,
 * not retryable (platform-api.md) and saying so, whatever step noticed it; else unchanged.
 */
export function stopFailure(failure: Failure, signal: AbortSignal | undefined): Failure {
  if (failure.code !== 'cancelled' || !stoppedByPlatform(signal)) return failure;
  return {
    ...failure,
    retryable: false,
    message: `the platform asked to stop the job (an events answer said "cancel": true); it stopped during ${failure.step}, and nothing more was pushed`,
  };
}
