/**
 * openPullRequest with the real Octokit, its retry and throttling plugins and real HTTP,
 * against the GitHub stand-in on 127.0.0.1 with scripted faults.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type GitHubStandIn,
  primaryRateLimit,
  secondaryRateLimit,
  startGitHubStandIn,
} from '../../../test/support/local-world/github-stand-in.js';
import { WorkerError } from '../../errors.js';
import { openPullRequest, type PullRequestSpec } from './pull-request.js';

const TOKEN = 'ghs_pullRequestTestToken';

let gh: GitHubStandIn;
let counter = 0;

beforeAll(async () => {
  gh = await startGitHubStandIn({ token: TOKEN });
});
afterAll(async () => gh?.close());
beforeEach(() => gh.clearFaults());

/** A spec with its own head branch, so each test opens its own pull request. */
function spec(extra: Partial<PullRequestSpec> = {}): PullRequestSpec {
  counter += 1;
  return {
    apiUrl: gh.apiUrl,
    token: TOKEN,
    owner: 'acme',
    repo: 'app',
    head: `viberator/T-${counter}`,
    base: 'main',
    title: `T-${counter}: a change`,
    body: 'Done.',
    userAgent: 'viberator-worker/test',
    ...extra,
  };
}

/** The requests the stand-in got from now on, for `head`'s list and create calls. */
function requestsSince(start: number) {
  return gh.requests.slice(start).map((r) => ({ method: r.method, at: r.at }));
}

/** Milliseconds between consecutive requests. */
function gaps(requests: Array<{ at: number }>): number[] {
  return requests.slice(1).map((request, i) => request.at - (requests[i]?.at ?? 0));
}

async function failure(promise: Promise<unknown>): Promise<WorkerError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(WorkerError);
    return error as WorkerError;
  }
  throw new Error('expected openPullRequest to fail');
}

describe('openPullRequest: retries', () => {
  it('reuses the open pull request of the same head (a retried job)', async () => {
    const first = spec();
    const opened = await openPullRequest(first);
    const again = await openPullRequest({ ...first, title: 'another title' });
    expect(again).toEqual({ url: opened.url, number: opened.number, reused: true });
  });

  it('retries a 502 twice with backoff, then opens the pull request', async () => {
    const start = gh.requests.length;
    gh.fault('create_pull', { status: 502, message: 'Bad Gateway' }, 2);
    const opened = await openPullRequest(spec());
    expect(opened).toMatchObject({ reused: false, url: expect.stringContaining('/pull/') });
    const posts = requestsSince(start).filter((r) => r.method === 'POST');
    expect(posts).toHaveLength(3);
    // plugin-retry's backoff: 1 s, then 4 s.
    const [first, second] = gaps(posts);
    expect(first).toBeGreaterThanOrEqual(900);
    expect(second).toBeGreaterThanOrEqual(3900);
  });

  it('a 403 that is not a rate limit: asked once, not retryable, names the token', async () => {
    const start = gh.requests.length;
    gh.fault('create_pull', { status: 403, message: 'Resource not accessible by integration' });
    const error = await failure(openPullRequest(spec()));
    expect(error.toFailure()).toMatchObject({ code: 'pr_failed', retryable: false });
    expect(error.message).toMatch(
      /GitHub answered 403: Resource not accessible by integration \(check that the GITHUB_TOKEN secret's token may open pull requests on acme\/app\)$/,
    );
    expect(requestsSince(start).map((r) => r.method)).toEqual(['POST']);
  });

  it('a bare 429 without rate-limit headers: asked once, retryable', async () => {
    const start = gh.requests.length;
    gh.fault('create_pull', { status: 429, message: 'Too Many Requests' });
    const error = await failure(openPullRequest(spec()));
    expect(error.toFailure()).toMatchObject({ code: 'pr_failed', retryable: true });
    expect(error.message).toMatch(/GitHub answered 429: Too Many Requests \(rate limit;/);
    expect(gh.requests.length - start).toBe(1);
  });

  it('does not retry a 4xx: 401 once, not retryable, names the secret', async () => {
    const start = gh.requests.length;
    const error = await failure(openPullRequest(spec({ token: 'ghs_wrong' })));
    expect(error.toFailure()).toMatchObject({ code: 'pr_failed', retryable: false });
    expect(error.message).toMatch(/GitHub answered 401: Bad credentials \(check the GITHUB_TOKEN/);
    expect(gh.requests.length - start).toBe(1);
  });
});

describe('openPullRequest: rate limits', () => {
  it('waits for a primary rate limit that lifts soon, then succeeds', async () => {
    const start = gh.requests.length;
    const waits: Array<{ kind: string; seconds: number }> = [];
    gh.fault('create_pull', primaryRateLimit({ resetInSeconds: 1 }));
    const opened = await openPullRequest(spec({ onRateLimitWait: (w) => waits.push(w) }));
    expect(opened.reused).toBe(false);
    expect(waits).toEqual([expect.objectContaining({ kind: 'rate limit' })]);
    expect(waits[0]?.seconds).toBeGreaterThanOrEqual(1);
    expect(waits[0]?.seconds).toBeLessThanOrEqual(3);
    const posts = requestsSince(start).filter((r) => r.method === 'POST');
    expect(posts).toHaveLength(2);
    expect(gaps(posts)[0]).toBeGreaterThanOrEqual(900);
  });

  it('waits retry-after for a secondary rate limit (429), then succeeds', async () => {
    const start = gh.requests.length;
    const waits: Array<{ kind: string; seconds: number }> = [];
    gh.fault('create_pull', secondaryRateLimit({ retryAfterSeconds: 1, status: 429 }));
    const opened = await openPullRequest(spec({ onRateLimitWait: (w) => waits.push(w) }));
    expect(opened.reused).toBe(false);
    expect(waits).toEqual([
      { kind: 'secondary rate limit', seconds: 1, method: 'POST', url: expect.any(String) },
    ]);
    expect(requestsSince(start).filter((r) => r.method === 'POST')).toHaveLength(2);
  });

  it('does not wait for a rate limit that lifts in an hour: pr_failed at once, retryable', async () => {
    const start = gh.requests.length;
    const began = Date.now();
    gh.fault('create_pull', primaryRateLimit({ resetInSeconds: 3600, status: 429 }));
    const error = await failure(openPullRequest(spec()));
    expect(Date.now() - began).toBeLessThan(3000);
    expect(error.toFailure()).toMatchObject({
      code: 'pr_failed',
      retryable: true,
      step: 'opening_pr',
    });
    expect(error.message).toMatch(
      /GitHub answered 429: API rate limit exceeded for user ID 4242\. \(rate limit until .*Z, in 3\d{3} s; a job waits at most 60 s for a rate limit\)/,
    );
    expect(gh.requests.length - start).toBe(1);
  });

  it('waits at most twice for the same request', async () => {
    const start = gh.requests.length;
    gh.fault('create_pull', primaryRateLimit({ resetInSeconds: 0 }), 'always');
    const error = await failure(openPullRequest(spec()));
    expect(error.toFailure()).toMatchObject({ code: 'pr_failed', retryable: true });
    expect(error.message).toMatch(/GitHub answered 403: API rate limit exceeded/);
    expect(gh.requests.length - start).toBe(3);
  });
});

describe('openPullRequest: time limit and cancellation', () => {
  it('a GitHub that never answers: pr_failed, retryable, after the time limit, asked once', async () => {
    const start = gh.requests.length;
    const began = Date.now();
    gh.fault('create_pull', 'hang');
    const error = await failure(openPullRequest(spec({ timeoutMs: 500 })));
    const took = Date.now() - began;
    expect(took).toBeGreaterThanOrEqual(450);
    expect(took).toBeLessThan(3000);
    expect(error.toFailure()).toMatchObject({
      code: 'pr_failed',
      retryable: true,
      step: 'opening_pr',
    });
    expect(error.message).toBe(
      `pull request failed: the GitHub API at ${gh.apiUrl} did not answer within 0.5 s (POST /repos/acme/app/pulls; VIBERATOR_HTTP_TIMEOUT sets the limit)`,
    );
    expect(gh.requests.length - start).toBe(1);
  });

  it('a look-up that never answers (after "already exists") is not sent twice', async () => {
    await openPullRequest(spec({ head: 'feature/looked-up' }));
    const start = gh.requests.length;
    gh.fault('list_pulls', 'hang');
    const error = await failure(
      openPullRequest(spec({ head: 'feature/looked-up', timeoutMs: 500 })),
    );
    expect(error.message).toMatch(/did not answer within 0\.5 s \(GET \/repos\/acme\/app\/pulls;/);
    expect(requestsSince(start).map((r) => r.method)).toEqual(['POST', 'GET']);
  });

  it('the job signal stops a request in flight: cancelled, at once', async () => {
    const start = gh.requests.length;
    gh.fault('create_pull', 'hang');
    const controller = new AbortController();
    const pending = failure(openPullRequest(spec({ signal: controller.signal })));
    await waitForRequests(1, start);
    const began = Date.now();
    controller.abort();
    const error = await pending;
    expect(Date.now() - began).toBeLessThan(1000);
    expect(error.toFailure()).toMatchObject({
      code: 'cancelled',
      retryable: true,
      step: 'opening_pr',
    });
    expect(error.message).toMatch(
      /asked to stop \(SIGTERM\) while opening the pull request; the branch viberator\/T-\d+ was pushed/,
    );
  });

  it('the job signal ends a rate-limit wait at once', async () => {
    const start = gh.requests.length;
    gh.fault('create_pull', primaryRateLimit({ resetInSeconds: 30 }));
    const controller = new AbortController();
    let waiting = false;
    const pending = failure(
      openPullRequest(spec({ signal: controller.signal, onRateLimitWait: () => (waiting = true) })),
    );
    await until(() => waiting);
    const began = Date.now();
    controller.abort();
    const error = await pending;
    expect(Date.now() - began).toBeLessThan(1000);
    expect(error.code).toBe('cancelled');
    expect(gh.requests.length - start).toBe(1);
  });

  it('the job signal ends the call during a pause between 5xx retries; nothing more is sent', async () => {
    const start = gh.requests.length;
    gh.fault('create_pull', { status: 503, message: 'Service Unavailable' });
    const controller = new AbortController();
    const pending = failure(openPullRequest(spec({ signal: controller.signal })));
    await waitForRequests(1, start);
    const began = Date.now();
    controller.abort();
    const error = await pending;
    expect(Date.now() - began).toBeLessThan(500);
    expect(error.code).toBe('cancelled');
    // The plugin's 1 s pause runs out; the attempt after it is refused before it is sent.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(gh.requests.length - start).toBe(1);
  });

  it('an already aborted signal sends nothing', async () => {
    const start = gh.requests.length;
    const error = await failure(openPullRequest(spec({ signal: AbortSignal.abort() })));
    expect(error.code).toBe('cancelled');
    expect(gh.requests.length).toBe(start);
  });
});

async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Waits until the stand-in got `count` requests after index `start`. */
async function waitForRequests(count: number, start: number): Promise<void> {
  await until(() => gh.requests.length - start >= count);
}
