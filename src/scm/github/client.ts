/**
 * The GitHub REST client: Octokit with its own retry and throttling plugins, a time limit on
 * every request and the job's AbortSignal. Loaded lazily (see `preloadGitHubClient` in
 * pull-request.ts): jobs that never open a pull request never load Octokit.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { retry } from '@octokit/plugin-retry';
import { throttling } from '@octokit/plugin-throttling';
import { Octokit } from '@octokit/rest';
import { GITHUB_RETRY_POLICY, GitHubRequestAborted } from './limits.js';

const GitHub = Octokit.plugin(retry, throttling);
export type GitHubClient = InstanceType<typeof GitHub>;

/**
 * Statuses plugin-retry must not retry: its own list plus 429, which the throttling plugin
 * handles by GitHub's rate-limit headers (403 is in the list already) instead of blindly
 * retrying it on plugin-retry's backoff.
 */
const DO_NOT_RETRY = [400, 401, 403, 404, 410, 422, 429, 451];

/** Statuses whose Response must not have a body. */
const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304]);

export interface GitHubClientOptions {
  apiUrl: string;
  token: string;
  userAgent: string;
  /** Limit of each attempt of each request, answer body included. */
  timeoutMs: number;
  /** The job's signal: aborting it stops the request in flight and any wait. */
  signal?: AbortSignal;
  /** Told before the client waits for a rate limit to lift. */
  onRateLimitWait?: (info: {
    kind: 'rate limit' | 'secondary rate limit';
    seconds: number;
    method: string;
    url: string;
  }) => void;
  /** Octokit's warnings and errors, e.g. each failed attempt ("GET /repos/… - 502 with id …"). */
  log?: (message: string) => void;
}

export function createGitHubClient(opts: GitHubClientOptions): GitHubClient {
  const onLimit =
    (kind: 'rate limit' | 'secondary rate limit') =>
    async (
      retryAfter: number,
      request: { method: string; url: string },
      _octokit: unknown,
      retryCount: number,
    ): Promise<boolean> => {
      if (opts.signal?.aborted) return false;
      if (retryCount >= GITHUB_RETRY_POLICY.rateLimitRetries) return false;
      if (retryAfter > GITHUB_RETRY_POLICY.maxRateLimitWaitSeconds) return false;
      opts.onRateLimitWait?.({
        kind,
        seconds: retryAfter,
        method: request.method,
        url: request.url,
      });
      // The wait happens here rather than in the plugin's scheduler (retryAfterBaseValue 0
      // below), so that a cancelled job stops waiting at once and leaves no timer behind.
      try {
        await sleep(retryAfter * 1000, undefined, { signal: opts.signal });
        return true;
      } catch {
        return false;
      }
    };
  const quiet = () => {};
  return new GitHub({
    auth: opts.token,
    baseUrl: opts.apiUrl,
    userAgent: opts.userAgent,
    request: { fetch: boundedFetch(opts.timeoutMs, opts.signal) },
    retry: { retries: GITHUB_RETRY_POLICY.serverErrorRetries, doNotRetry: DO_NOT_RETRY },
    throttle: {
      // The plugin spaces writes (3 s between pull request creations) per id, across every
      // client of the process. A job opens one pull request: its own id keeps a warm Lambda's
      // next job from waiting on the last one's spacing.
      id: `viberator-${randomUUID()}`,
      onRateLimit: onLimit('rate limit'),
      onSecondaryRateLimit: onLimit('secondary rate limit'),
      retryAfterBaseValue: 0,
    },
    log: {
      debug: quiet,
      info: quiet,
      warn: (message: string) => opts.log?.(message),
      error: (message: string) => opts.log?.(message),
    },
  });
}

/**
 * `fetch` with a limit on each attempt, covering the answer's body too (GitHub's JSON answers
 * are small, so the body is read here, under the limit, and handed on in a new Response), and
 * stopped when the job's signal is aborted.
 */
function boundedFetch(timeoutMs: number, jobSignal: AbortSignal | undefined): typeof fetch {
  return async (input, init = {}) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const target = { method: init.method ?? 'GET', path: url.pathname, timeoutMs };
    if (jobSignal?.aborted) throw new GitHubRequestAborted('cancelled', target);
    const attempt = new AbortController();
    let stopped: 'timeout' | 'cancelled' | undefined;
    const stop = (kind: 'timeout' | 'cancelled') => {
      stopped ??= kind;
      attempt.abort(new GitHubRequestAborted(kind, target));
    };
    const timer = setTimeout(() => stop('timeout'), timeoutMs);
    const onCancel = () => stop('cancelled');
    jobSignal?.addEventListener('abort', onCancel, { once: true });
    init.signal?.addEventListener('abort', onCancel, { once: true });
    try {
      const response = await fetch(input, { ...init, signal: attempt.signal });
      const body = await response.arrayBuffer();
      const copy = new Response(NULL_BODY_STATUSES.has(response.status) ? null : body, {
        status: response.status,
        statusText: response.statusText,
        headers: response.headers,
      });
      Object.defineProperty(copy, 'url', { value: response.url });
      return copy;
    } catch (error) {
      if (stopped) throw new GitHubRequestAborted(stopped, target, { cause: error });
      throw error;
    } finally {
      clearTimeout(timer);
      jobSignal?.removeEventListener('abort', onCancel);
      init.signal?.removeEventListener('abort', onCancel);
    }
  };
}
