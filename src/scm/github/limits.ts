/** The limits of GitHub calls; small and dependency-free, so importing it loads no Octokit. */

/** How long and how often a job insists; docs/decisions.md "Pull requests" explains the figures. */
export const GITHUB_RETRY_POLICY = {
  /** Retries of a 5xx answer or a network error, after 1, 4 and 9 s (plugin-retry's backoff). */
  serverErrorRetries: 3,
  /** Retries of one request after a rate-limit answer. */
  rateLimitRetries: 2,
  /** A rate limit that lifts later than this is not waited for: the job fails at once. */
  maxRateLimitWaitSeconds: 60,
} as const;

export const DEFAULT_GITHUB_TIMEOUT_MS = 30_000;

/**
 * A request that was stopped: it ran out of time, or the job was cancelled. Named
 * `AbortError` like any aborted fetch, so Octokit hands it on unwrapped and neither plugin
 * retries it: a GitHub that did not answer within the limit is not asked again within the job.
 */
export class GitHubRequestAborted extends Error {
  override readonly name = 'AbortError';
  constructor(
    readonly kind: 'timeout' | 'cancelled',
    /** Not `request`: Octokit and its plugins read that name as their own request options. */
    readonly target: { method: string; path: string; timeoutMs: number },
    options?: { cause?: unknown },
  ) {
    super(
      kind === 'timeout'
        ? `${target.method} ${target.path} got no answer within ${target.timeoutMs} ms`
        : `${target.method} ${target.path} was stopped: the job was cancelled`,
      options,
    );
  }
}
