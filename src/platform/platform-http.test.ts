import { afterEach, describe, expect, it } from 'vitest';
import {
  type PlatformStandIn,
  startPlatformStandIn,
} from '../../test/support/platform-stand-in.js';
import { VERSION } from '../version.js';
import { PlatformClient, PlatformError } from './platform-http.js';

const TOKEN = 'cb_http_test_token_5678';
let platform: PlatformStandIn;

afterEach(async () => {
  await platform?.close();
});

function client(overrides: Partial<ConstructorParameters<typeof PlatformClient>[0]> = {}) {
  return new PlatformClient({
    baseUrl: `${platform.url}/`,
    token: TOKEN,
    attemptTimeoutMs: 2000,
    backoff: { minMs: 20, maxMs: 100 },
    ...overrides,
  });
}

async function failure(promise: Promise<unknown>): Promise<PlatformError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(PlatformError);
    return error as PlatformError;
  }
  throw new Error('expected the call to fail');
}

describe('PlatformClient', () => {
  it('sends the bearer token, JSON content type and user agent on every request', async () => {
    platform = await startPlatformStandIn({ token: TOKEN, jobId: 'job_1' });
    const http = client();
    const got = await http.request(
      { method: 'GET', path: '/jobs/job_1/clanker' },
      { maxRetryTime: 1000 },
    );
    expect(got).toMatchObject({ status: 200, attempts: 1, body: { agent: 'claude-code' } });
    await http.request(
      { method: 'POST', path: '/jobs/job_1/events', body: { events: [] } },
      { maxRetryTime: 1000 },
    );
    expect(platform.requests).toHaveLength(2);
    for (const request of platform.requests) {
      expect(request.authorized).toBe(true);
      expect(request.headers['content-type']).toBe('application/json');
      expect(request.headers['user-agent']).toBe(`viberator-worker/${VERSION}`);
    }
    expect(platform.requests[1]?.body).toEqual({ events: [] });
  });

  it('retries 5xx, 408 and 429 with backoff until accepted', async () => {
    platform = await startPlatformStandIn({ token: TOKEN });
    platform.fail('result', { status: 503 }, 2);
    platform.fail('result', { status: 408 });
    platform.fail('result', { status: 429 });
    platform.fail('result', { status: 500 });
    const failed: number[] = [];
    const got = await client().request(
      { method: 'POST', path: '/jobs/j/result', body: { jobId: 'j' } },
      { maxRetryTime: 10_000, onAttemptFailed: (error) => failed.push(error.status ?? 0) },
    );
    expect(got.attempts).toBe(6);
    expect(failed).toEqual([503, 503, 408, 429, 500]);
    expect(platform.results).toHaveLength(1);
    const times = platform.requests.map((r) => r.at);
    for (let i = 1; i < times.length; i += 1) {
      expect((times[i] as number) - (times[i - 1] as number)).toBeGreaterThanOrEqual(15);
    }
  });

  it('does not retry 401 or another 4xx; the error carries the status and message', async () => {
    platform = await startPlatformStandIn({ token: TOKEN });
    const wrong = client({ token: 'not-the-token' });
    const unauthorized = await failure(
      wrong.request({ method: 'GET', path: '/jobs/j/clanker' }, { maxRetryTime: 5000 }),
    );
    expect(unauthorized).toMatchObject({
      kind: 'http',
      status: 401,
      retryable: false,
      attempts: 1,
    });
    expect(unauthorized.message).toBe('GET /jobs/j/clanker: HTTP 401: bad or missing bearer token');
    expect(unauthorized.message).not.toContain('not-the-token');
    platform.fail('events', { status: 422, body: { message: 'bad event' } });
    const refused = await failure(
      client().request(
        { method: 'POST', path: '/jobs/j/events', body: { events: [] } },
        { maxRetryTime: 5000 },
      ),
    );
    expect(refused).toMatchObject({
      status: 422,
      retryable: false,
      body: { message: 'bad event' },
    });
    expect(platform.requests).toHaveLength(2);
  });

  it("honours a 429's Retry-After within the cap", async () => {
    platform = await startPlatformStandIn({ token: TOKEN });
    platform.fail('clanker', { status: 429, headers: { 'retry-after': '1' } });
    let started = performance.now();
    await client().request({ method: 'GET', path: '/jobs/j/clanker' }, { maxRetryTime: 10_000 });
    expect(performance.now() - started).toBeGreaterThanOrEqual(950);

    platform.fail('clanker', { status: 429, headers: { 'retry-after': '3600' } });
    started = performance.now();
    await client({ maxRetryAfterMs: 150 }).request(
      { method: 'GET', path: '/jobs/j/clanker' },
      { maxRetryTime: 10_000 },
    );
    const waited = performance.now() - started;
    expect(waited).toBeGreaterThanOrEqual(140);
    expect(waited).toBeLessThan(1000);

    // No retry would follow (retries: 0): no point waiting.
    platform.fail('clanker', { status: 429, headers: { 'retry-after': '5' } });
    started = performance.now();
    const error = await failure(
      client().request(
        { method: 'GET', path: '/jobs/j/clanker' },
        { maxRetryTime: 10_000, retries: 0 },
      ),
    );
    expect(error).toMatchObject({ status: 429, retryable: true, retryAfterMs: 5000, attempts: 1 });
    expect(performance.now() - started).toBeLessThan(500);
  });

  it('retries network errors until the deadline, then says so', async () => {
    platform = await startPlatformStandIn({ token: TOKEN });
    await platform.down();
    const started = performance.now();
    const error = await failure(
      client().request({ method: 'GET', path: '/jobs/j/clanker' }, { maxRetryTime: 400 }),
    );
    const elapsed = performance.now() - started;
    expect(error.kind).toBe('network');
    expect(error.retryable).toBe(true);
    expect(error.attempts).toBeGreaterThan(2);
    expect(error.message).toMatch(
      /^GET \/jobs\/j\/clanker: network error: .*ECONNREFUSED.*\(after \d+ attempts\)$/,
    );
    expect(elapsed).toBeGreaterThanOrEqual(340); // no retry starts in the last 50 ms
    expect(elapsed).toBeLessThan(1500);
  });

  it('recovers when the platform comes back', async () => {
    platform = await startPlatformStandIn({ token: TOKEN });
    await platform.down();
    setTimeout(() => void platform.up(), 200);
    const got = await client().request(
      { method: 'POST', path: '/jobs/j/result', body: { jobId: 'j' } },
      { maxRetryTime: 5000 },
    );
    expect(got.attempts).toBeGreaterThan(1);
    expect(platform.results).toHaveLength(1);
  });

  it('limits each attempt, retries a silent platform, and the deadline cuts the last attempt', async () => {
    platform = await startPlatformStandIn({ token: TOKEN });
    platform.hang('clanker');
    let started = performance.now();
    const timedOut = await failure(
      client({ attemptTimeoutMs: 100 }).request(
        { method: 'GET', path: '/jobs/j/clanker' },
        { maxRetryTime: 600 },
      ),
    );
    expect(timedOut.kind).toBe('timeout');
    expect(timedOut.attempts).toBeGreaterThan(1);
    expect(performance.now() - started).toBeLessThan(1500);

    started = performance.now();
    const cut = await failure(
      client({ attemptTimeoutMs: 30_000 }).request(
        { method: 'GET', path: '/jobs/j/clanker' },
        { maxRetryTime: 300 },
      ),
    );
    expect(cut).toMatchObject({ kind: 'timeout', attempts: 1 });
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('stops at once on the signal, in an attempt or in a pause', async () => {
    platform = await startPlatformStandIn({ token: TOKEN });
    platform.hang('clanker');
    const during = new AbortController();
    setTimeout(() => during.abort(), 100);
    let started = performance.now();
    const inAttempt = await failure(
      client().request(
        { method: 'GET', path: '/jobs/j/clanker' },
        { maxRetryTime: 10_000, signal: during.signal },
      ),
    );
    expect(inAttempt).toMatchObject({ kind: 'cancelled', retryable: false });
    expect(performance.now() - started).toBeLessThan(500);

    platform.clearFaults();
    platform.fail('clanker', { status: 503 }, 'always');
    const pause = new AbortController();
    started = performance.now();
    const call = client({ backoff: { minMs: 5000, maxMs: 5000 } }).request(
      { method: 'GET', path: '/jobs/j/clanker' },
      { maxRetryTime: 60_000, signal: pause.signal },
    );
    setTimeout(() => pause.abort(), 100);
    expect(await failure(call)).toMatchObject({ kind: 'cancelled' });
    expect(performance.now() - started).toBeLessThan(1000);
    const before = platform.requests.length;
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(platform.requests.length).toBe(before);
  });

  it('refuses an answer larger than the limit, without retrying', async () => {
    platform = await startPlatformStandIn({ token: TOKEN });
    platform.clanker = { id: 'c', name: 'n', agent: 'claude-code', agentsMd: 'x'.repeat(5000) };
    const error = await failure(
      client({ maxAnswerBytes: 1000 }).request(
        { method: 'GET', path: '/jobs/j/clanker' },
        { maxRetryTime: 5000 },
      ),
    );
    expect(error).toMatchObject({ kind: 'invalid_answer', retryable: false, attempts: 1 });
    expect(platform.requests).toHaveLength(1);
  });
});
