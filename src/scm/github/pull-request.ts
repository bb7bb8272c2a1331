import { WorkerError } from '../../errors.js';
import type { GitHubClientOptions } from './client.js';
import { DEFAULT_GITHUB_TIMEOUT_MS, GITHUB_RETRY_POLICY, GitHubRequestAborted } from './limits.js';

export interface PullRequestSpec {
  apiUrl: string;
  token: string;
  owner: string;
  repo: string;
  head: string;
  base: string;
  title: string;
  body: string;
  userAgent: string;
  /** Limit of each attempt of each request, in ms. Default 30 s. */
  timeoutMs?: number;
  /** The job's signal (SIGTERM): ends the call at once with `cancelled`. */
  signal?: AbortSignal;
  onRateLimitWait?: GitHubClientOptions['onRateLimitWait'];
  log?: GitHubClientOptions['log'];
}

export interface OpenedPullRequest {
  url: string;
  number: number;
  reused: boolean;
}

interface GitHubHttpError {
  status: number;
  message: string;
  /** Octokit's request options; plugin-retry counts the retries in `request.retryCount`. */
  request?: { request?: { retryCount?: number } };
  response?: {
    headers?: Record<string, string | undefined>;
    data?: {
      message?: string;
      errors?: Array<{ message?: string; code?: string; field?: string }>;
    };
  };
}

let clientModule: Promise<typeof import('./client.js')> | undefined;

/**
 * Starts loading Octokit and its plugins without waiting: jobs that will open a pull request
 * call this when the agent starts, so the module is ready when it is needed and jobs that
 * never open one never pay for it.
 */
export function preloadGitHubClient(): void {
  if (clientModule) return;
  clientModule = import('./client.js');
  clientModule.catch(() => {});
  // Node loads its fetch implementation on first use (tens of milliseconds): do it while the
  // agent works rather than in the pull request step. Deferred so the agent starts first.
  setTimeout(() => {
    fetch('data:text/plain,').then(
      (response) => response.arrayBuffer(),
      () => {},
    );
  }, 100).unref();
}

/**
 * Opens the pull request, or returns the open one for the same head (a retried job).
 * GitHub Enterprise works through `apiUrl`. Every request is limited to `timeoutMs` per
 * attempt; 5xx answers and rate limits are retried a bounded number of times (client.ts);
 * aborting `signal` ends the call at once with `cancelled`.
 */
export async function openPullRequest(spec: PullRequestSpec): Promise<OpenedPullRequest> {
  const timeoutMs = spec.timeoutMs ?? DEFAULT_GITHUB_TIMEOUT_MS;
  if (spec.signal?.aborted) throw cancelled(spec);
  const work = openOrReuse(spec, timeoutMs);
  // A pause between 5xx retries is plugin-retry's own timer, which no signal reaches: on
  // SIGTERM the call ends without waiting for it, and `work` settles later, unobserved.
  work.catch(() => {});
  try {
    return await untilAborted(work, spec.signal);
  } catch (error) {
    throw prError(error, spec, timeoutMs);
  }
}

async function openOrReuse(spec: PullRequestSpec, timeoutMs: number): Promise<OpenedPullRequest> {
  preloadGitHubClient();
  const { createGitHubClient } = await (clientModule as Promise<typeof import('./client.js')>);
  const octokit = createGitHubClient({
    apiUrl: spec.apiUrl,
    token: spec.token,
    userAgent: spec.userAgent,
    timeoutMs,
    signal: spec.signal,
    onRateLimitWait: spec.onRateLimitWait,
    log: spec.log,
  });
  const findOpen = async (): Promise<OpenedPullRequest | undefined> => {
    const { data } = await octokit.rest.pulls.list({
      owner: spec.owner,
      repo: spec.repo,
      state: 'open',
      head: `${spec.owner}:${spec.head}`,
      per_page: 1,
    });
    const open = data[0];
    return open ? { url: open.html_url, number: open.number, reused: true } : undefined;
  };
  // Create first: most jobs open a new request, and one round trip is all they need. GitHub
  // refuses a second open request for the same head ("already exists"): then it is looked up
  // and reused, which is also what a retried job or a racing attempt gets.
  try {
    const { data } = await octokit.rest.pulls.create({
      owner: spec.owner,
      repo: spec.repo,
      head: spec.head,
      base: spec.base,
      title: spec.title,
      body: spec.body,
    });
    return { url: data.html_url, number: data.number, reused: false };
  } catch (error) {
    // An earlier attempt (or a racing one) opened it; or GitHub carried out a create it
    // answered with a 5xx, and plugin-retry's next attempt finds it there.
    if (/already exists/i.test(githubMessage(error as GitHubHttpError))) {
      const raced = await findOpen();
      if (raced) return raced;
    }
    throw error;
  }
}

/** `work`, or a rejection as soon as `signal` is aborted (prError makes it `cancelled`). */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return work;
  let onAbort = () => {};
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
  });
  return Promise.race([work, aborted]).finally(() => signal.removeEventListener('abort', onAbort));
}

/** GitHub's own words: its message and each validation error's message or code. */
function githubMessage(error: GitHubHttpError): string {
  const data = error.response?.data;
  const details = (data?.errors ?? [])
    .map((item) => item.message ?? [item.field, item.code].filter(Boolean).join(' '))
    .filter(Boolean);
  const main = data?.message ?? error.message;
  return details.length > 0 ? `${main}: ${details.join('; ')}` : main;
}

function cancelled(spec: PullRequestSpec, cause?: unknown): WorkerError {
  return new WorkerError(
    'cancelled',
    `the worker was asked to stop (SIGTERM) while opening the pull request; the branch ${spec.head} was pushed`,
    { step: 'opening_pr', cause },
  );
}

function prError(error: unknown, spec: PullRequestSpec, timeoutMs: number): WorkerError {
  if (spec.signal?.aborted) return cancelled(spec, error);
  if (error instanceof GitHubRequestAborted) {
    if (error.kind === 'cancelled') return cancelled(spec, error);
    return new WorkerError(
      'pr_failed',
      `pull request failed: the GitHub API at ${spec.apiUrl} did not answer within ${seconds(timeoutMs)} s (${error.target.method} ${error.target.path}; VIBERATOR_HTTP_TIMEOUT sets the limit)`,
      { retryable: true, cause: error },
    );
  }
  const httpError = error as GitHubHttpError;
  const retries = httpError?.request?.request?.retryCount ?? 0;
  const attempts = retries > 0 ? ` (after ${retries + 1} attempts)` : '';
  if (typeof httpError?.status !== 'number' || !httpError.response) {
    // No answer at all: Octokit reports a network error as a RequestError without a response.
    return new WorkerError(
      'pr_failed',
      `pull request failed: could not reach GitHub at ${spec.apiUrl}: ${(error as Error).message}${attempts}`,
      { retryable: true, cause: error },
    );
  }
  const status = httpError.status;
  const limited = rateLimit(httpError);
  if (limited) {
    return new WorkerError(
      'pr_failed',
      `pull request failed: GitHub answered ${status}: ${githubMessage(httpError)} (${limited}; a job waits at most ${GITHUB_RETRY_POLICY.maxRateLimitWaitSeconds} s for a rate limit)${attempts}`,
      { retryable: true, cause: error },
    );
  }
  const hint =
    status === 401
      ? ' (check the GITHUB_TOKEN secret)'
      : status === 403 || status === 404
        ? ` (check that the GITHUB_TOKEN secret's token may open pull requests on ${spec.owner}/${spec.repo})`
        : '';
  return new WorkerError(
    'pr_failed',
    `pull request failed: GitHub answered ${status}: ${githubMessage(httpError)}${hint}${attempts}`,
    { retryable: status >= 500, cause: error },
  );
}

/**
 * Whether an answer is one of GitHub's rate limits, and when it lifts: a 429, or a 403 that
 * says so (the primary limit: `x-ratelimit-remaining: 0`; the secondary: its message).
 */
function rateLimit(error: GitHubHttpError): string | undefined {
  const headers = error.response?.headers ?? {};
  const primary = headers['x-ratelimit-remaining'] === '0';
  const secondary = /secondary rate limit/i.test(githubMessage(error));
  if (!(error.status === 429 || (error.status === 403 && (primary || secondary)))) return undefined;
  const kind = secondary ? 'secondary rate limit' : 'rate limit';
  const retryAfter = Number(headers['retry-after']);
  if (Number.isFinite(retryAfter) && retryAfter > 0) return `${kind}, retry after ${retryAfter} s`;
  const reset = Number(headers['x-ratelimit-reset']);
  if (primary && Number.isFinite(reset) && reset > 0) {
    const inSeconds = Math.max(0, Math.ceil(reset - Date.now() / 1000));
    return `${kind} until ${new Date(reset * 1000).toISOString()}, in ${inSeconds} s`;
  }
  return kind;
}

function seconds(ms: number): string {
  return String(Math.round(ms / 100) / 10);
}
