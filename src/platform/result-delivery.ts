/**
 * Delivers the job's Result (platform-api.md): `POST /jobs/{jobId}/result`, retried with
 * backoff and jitter until the platform accepts it (2xx) or the deadline (5 minutes) passes.
 * A 4xx other than 408/429 is the platform's final answer: not retried.
 *
 * It never throws: the caller gets `{ delivered: false, error }` and writes the Result (with
 * the undelivered events) to the artifacts location and the log, and exits non-zero.
 */
import type { Result } from '../core/result.js';
import { jobPath } from './platform-api.js';
import { type PlatformClient, PlatformError } from './platform-http.js';

/** The spec's patience for the Result. */
export const RESULT_DEADLINE_MS = 300_000;

export interface DeliverResultOptions {
  /** Deadline for the whole delivery, retries and pauses included. Default 5 minutes. */
  deadlineMs?: number;
  /** Stops the delivery at once (`error.kind` is then `cancelled`). */
  signal?: AbortSignal;
  /** Told of each failed attempt (for a log line); must not throw. */
  onAttemptFailed?: (error: PlatformError, attempt: number) => void;
}

export type ResultDelivery =
  | { delivered: true; attempts: number }
  | { delivered: false; error: PlatformError };

export async function deliverResult(
  http: PlatformClient,
  jobId: string,
  result: Result,
  opts: DeliverResultOptions = {},
): Promise<ResultDelivery> {
  try {
    const answer = await http.request(
      { method: 'POST', path: jobPath(jobId, 'result'), body: result },
      {
        maxRetryTime: opts.deadlineMs ?? RESULT_DEADLINE_MS,
        signal: opts.signal,
        onAttemptFailed: opts.onAttemptFailed,
      },
    );
    return { delivered: true, attempts: answer.attempts };
  } catch (error) {
    if (error instanceof PlatformError) return { delivered: false, error };
    return {
      delivered: false,
      error: new PlatformError({
        kind: 'network',
        method: 'POST',
        path: jobPath(jobId, 'result'),
        detail: error instanceof Error ? error.message : String(error),
        cause: error,
      }),
    };
  }
}
