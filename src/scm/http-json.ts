import { setTimeout as sleep } from 'node:timers/promises';
import pRetry, { AbortError } from 'p-retry';

/** How an SCM call insists; docs/decisions.md "Pull requests and merge requests". */
export const SCM_RETRY_POLICY = {
  /** Retries of a 5xx answer or a network error (backoff 1, 2, 4 s with jitter). */
  serverErrorRetries: 3,
  /** Waits for a rate limit (429) on one request. */
  rateLimitRetries: 2,
  /** A rate limit that lifts later than this is not waited for. */
  maxRateLimitWaitSeconds: 60,
} as const;

/** One API call of an SCM, as data. */
export interface ScmRequest {
  method: 'GET' | 'POST';
  url: string;
  headers: Record<string, string>;
  body?: unknown;
}

export interface ScmCallOptions {
  /** Limit of each attempt, answer included. */
  timeoutMs: number;
  /** The job's signal (SIGTERM): stops the request in flight and any wait. */
  signal?: AbortSignal;
  /** Told before a rate-limit wait. */
  onRateLimitWait?: (info: { seconds: number; method: string; url: string }) => void;
}

/** The SCM answered with an error status; `body` is its JSON (or text) answer. */
export class ScmHttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly headers: Headers,
    readonly attempts: number,
  ) {
    super(`HTTP ${status}`);
    this.name = 'ScmHttpError';
  }
}

/** No answer in time, or the job was cancelled. Never retried. */
export class ScmRequestStopped extends Error {
  constructor(
    readonly kind: 'timeout' | 'cancelled',
    readonly target: { method: string; path: string; timeoutMs: number },
  ) {
    super(
      `${target.method} ${target.path}: ${kind === 'timeout' ? 'no answer in time' : 'cancelled'}`,
    );
    this.name = 'ScmRequestStopped';
  }
}

/** The network failed (refused, reset, DNS) on every attempt. */
export class ScmUnreachable extends Error {
  constructor(
    message: string,
    readonly attempts: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ScmUnreachable';
  }
}

/**
 * Sends one JSON request, bounded: each attempt has `timeoutMs` (answer included); 5xx and
 * network errors are retried with backoff and jitter (p-retry); a 429 is waited for when it
 * lifts within a minute; the job's signal ends everything at once. Resolves with a 2xx
 * answer; rejects with {@link ScmHttpError}, {@link ScmRequestStopped} or
 * {@link ScmUnreachable}.
 */
export async function requestJson<T>(
  request: ScmRequest,
  opts: ScmCallOptions,
): Promise<{ status: number; data: T }> {
  let attempts = 0;
  let rateLimitWaits = 0;
  return pRetry(
    async () => {
      attempts += 1;
      try {
        return await attempt<T>(request, opts);
      } catch (error) {
        if (error instanceof ScmRequestStopped) throw new AbortError(error);
        if (error instanceof ScmHttpError) {
          const failed = new ScmHttpError(error.status, error.body, error.headers, attempts);
          if (error.status >= 500) throw failed;
          const wait = error.status === 429 ? retryAfterSeconds(error.headers) : undefined;
          if (
            wait !== undefined &&
            wait <= SCM_RETRY_POLICY.maxRateLimitWaitSeconds &&
            rateLimitWaits < SCM_RETRY_POLICY.rateLimitRetries
          ) {
            rateLimitWaits += 1;
            opts.onRateLimitWait?.({ seconds: wait, method: request.method, url: request.url });
            await sleep(wait * 1000, undefined, { signal: opts.signal }).catch(() => {
              throw new AbortError(new ScmRequestStopped('cancelled', target(request, opts)));
            });
            throw new RateLimitWaited(failed);
          }
          throw new AbortError(failed);
        }
        throw new ScmUnreachable((error as Error).message, attempts, { cause: error });
      }
    },
    {
      retries: SCM_RETRY_POLICY.serverErrorRetries + SCM_RETRY_POLICY.rateLimitRetries,
      minTimeout: 1000,
      factor: 2,
      randomize: true,
      signal: opts.signal,
      // The wait for a rate limit already happened: retry at once, and let it not count as one
      // of the 5xx retries.
      shouldConsumeRetry: ({ error }) => !(error instanceof RateLimitWaited),
      shouldRetry: ({ error, retriesConsumed }) =>
        error instanceof RateLimitWaited || retriesConsumed < SCM_RETRY_POLICY.serverErrorRetries,
    },
  ).catch((error: unknown) => {
    if (error instanceof RateLimitWaited) throw error.answer;
    if (opts.signal?.aborted) throw new ScmRequestStopped('cancelled', target(request, opts));
    throw error;
  });
}

/** A 429 that was waited for: retried at once by p-retry. */
class RateLimitWaited extends Error {
  constructor(readonly answer: ScmHttpError) {
    super('rate limit waited for');
  }
}

async function attempt<T>(
  request: ScmRequest,
  opts: ScmCallOptions,
): Promise<{ status: number; data: T }> {
  const where = target(request, opts);
  if (opts.signal?.aborted) throw new ScmRequestStopped('cancelled', where);
  const controller = new AbortController();
  let stopped: 'timeout' | 'cancelled' | undefined;
  const stop = (kind: 'timeout' | 'cancelled') => {
    stopped ??= kind;
    controller.abort();
  };
  const timer = setTimeout(() => stop('timeout'), opts.timeoutMs);
  const onCancel = () => stop('cancelled');
  opts.signal?.addEventListener('abort', onCancel, { once: true });
  try {
    const response = await fetch(request.url, {
      method: request.method,
      headers: {
        accept: 'application/json',
        ...(request.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...request.headers,
      },
      body: request.body === undefined ? undefined : JSON.stringify(request.body),
      signal: controller.signal,
      redirect: 'error',
    });
    const text = await response.text();
    let data: unknown = text;
    try {
      data = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON: kept as text, for the error message
    }
    if (!response.ok) throw new ScmHttpError(response.status, data, response.headers, 1);
    return { status: response.status, data: data as T };
  } catch (error) {
    if (stopped) throw new ScmRequestStopped(stopped, where);
    throw error;
  } finally {
    clearTimeout(timer);
    opts.signal?.removeEventListener('abort', onCancel);
  }
}

function target(request: ScmRequest, opts: ScmCallOptions) {
  return { method: request.method, path: new URL(request.url).pathname, timeoutMs: opts.timeoutMs };
}

/** Seconds until a rate limit lifts: `Retry-After`, else GitLab's `RateLimit-Reset` (epoch). */
function retryAfterSeconds(headers: Headers): number | undefined {
  const after = Number(headers.get('retry-after'));
  if (Number.isFinite(after) && after >= 0 && headers.get('retry-after') !== null) return after;
  const reset = Number(headers.get('ratelimit-reset'));
  if (Number.isFinite(reset) && reset > 0) return Math.max(0, Math.ceil(reset - Date.now() / 1000));
  return undefined;
}
