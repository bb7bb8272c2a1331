import type { Failure } from '../errors.js';

/** Why the job's abort signal fired: a signal to the worker, or the platform's cancel. */
export type StopRequest = { by: 'signal'; signal: NodeJS.Signals } | { by: 'platform' };

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
