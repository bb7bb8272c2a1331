import { afterEach, describe, expect, it } from 'vitest';
import {
  type PlatformStandIn,
  startPlatformStandIn,
} from '../../test/support/platform-stand-in.js';
import type { Result } from '../core/result.js';
import { PlatformClient } from './platform-http.js';
import { deliverResult } from './result-delivery.js';

const TOKEN = 'cb_result_test_token_3456';
let platform: PlatformStandIn;

afterEach(async () => {
  await platform?.close();
});

const RESULT: Result = {
  jobId: 'job_1',
  status: 'completed',
  phase: 'execution',
  agent: 'claude-code',
  startedAt: '2026-01-01T00:00:00.000Z',
  finishedAt: '2026-01-01T00:01:00.000Z',
  durationMs: 60_000,
};

function client(token = TOKEN) {
  return new PlatformClient({
    baseUrl: platform.url,
    token,
    attemptTimeoutMs: 500,
    backoff: { minMs: 20, maxMs: 100 },
  });
}

describe('deliverResult', () => {
  it('retries a failing platform until the Result is accepted, exactly once', async () => {
    platform = await startPlatformStandIn({ token: TOKEN, jobId: 'job_1' });
    platform.fail('result', { status: 503 }, 3);
    platform.fail('result', { status: 429 });
    const failed: number[] = [];
    const outcome = await deliverResult(client(), 'job_1', RESULT, {
      deadlineMs: 10_000,
      onAttemptFailed: (error) => failed.push(error.status ?? 0),
    });
    expect(outcome).toEqual({ delivered: true, attempts: 5 });
    expect(failed).toEqual([503, 503, 503, 429]);
    expect(platform.results).toEqual([RESULT]);
  });

  it('survives an outage shorter than the deadline', async () => {
    platform = await startPlatformStandIn({ token: TOKEN });
    await platform.down();
    setTimeout(() => void platform.up(), 300);
    const outcome = await deliverResult(client(), 'job_1', RESULT, { deadlineMs: 5000 });
    expect(outcome.delivered).toBe(true);
    expect(platform.results).toHaveLength(1);
  });

  it('gives up at the deadline when the platform stays down', async () => {
    platform = await startPlatformStandIn({ token: TOKEN });
    await platform.down();
    const started = performance.now();
    const outcome = await deliverResult(client(), 'job_1', RESULT, { deadlineMs: 500 });
    const elapsed = performance.now() - started;
    expect(outcome.delivered).toBe(false);
    if (outcome.delivered) return;
    expect(outcome.error).toMatchObject({ kind: 'network', retryable: true });
    expect(elapsed).toBeGreaterThanOrEqual(440); // no retry starts in the last 50 ms
    expect(elapsed).toBeLessThan(1500);
  });

  it('gives up at the deadline when the platform never answers', async () => {
    platform = await startPlatformStandIn({ token: TOKEN });
    platform.hang('result');
    const started = performance.now();
    const outcome = await deliverResult(client(), 'job_1', RESULT, { deadlineMs: 1200 });
    expect(outcome.delivered).toBe(false);
    if (!outcome.delivered) expect(outcome.error.kind).toBe('timeout');
    expect(performance.now() - started).toBeLessThan(2500);
    expect(platform.requests.length).toBeGreaterThan(1);
  });

  it('stops at once on a 4xx other than 408/429: 401 is not retried', async () => {
    platform = await startPlatformStandIn({ token: TOKEN });
    const outcome = await deliverResult(client('wrong-token'), 'job_1', RESULT, {
      deadlineMs: 5000,
    });
    expect(outcome).toMatchObject({ delivered: false, error: { status: 401, attempts: 1 } });
    expect(platform.requests).toHaveLength(1);
    expect(platform.results).toEqual([]);

    platform.fail('result', { status: 409, body: { error: 'result already recorded' } });
    const conflict = await deliverResult(client(), 'job_1', RESULT, { deadlineMs: 5000 });
    expect(conflict).toMatchObject({ delivered: false, error: { status: 409, retryable: false } });
  });

  it('stops when its signal aborts', async () => {
    platform = await startPlatformStandIn({ token: TOKEN });
    platform.fail('result', { status: 500 }, 'always');
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 150);
    const outcome = await deliverResult(client(), 'job_1', RESULT, {
      deadlineMs: 60_000,
      signal: controller.signal,
    });
    expect(outcome).toMatchObject({ delivered: false, error: { kind: 'cancelled' } });
  });
});
