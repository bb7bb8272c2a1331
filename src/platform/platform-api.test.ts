import { afterEach, describe, expect, it } from 'vitest';
import {
  type PlatformStandIn,
  startPlatformStandIn,
} from '../../test/support/platform-stand-in.js';
import { fetchClanker, fetchPlatformSecrets } from './platform-api.js';
import { PlatformClient, PlatformError } from './platform-http.js';

const TOKEN = 'cb_api_test_token_9012';
let platform: PlatformStandIn;

afterEach(async () => {
  await platform?.close();
});

function client(token = TOKEN) {
  return new PlatformClient({
    baseUrl: platform.url,
    token,
    attemptTimeoutMs: 2000,
    backoff: { minMs: 20, maxMs: 100 },
  });
}

async function failure(promise: Promise<unknown>): Promise<PlatformError> {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(PlatformError);
  return error as PlatformError;
}

describe('fetchClanker', () => {
  it('returns the clanker object as sent', async () => {
    platform = await startPlatformStandIn({ token: TOKEN, jobId: 'job_7' });
    platform.clanker = { id: 'clk_7', name: 'backend-bot', agent: 'claude-code', model: 'm' };
    expect(await fetchClanker(client(), 'job_7')).toEqual(platform.clanker);
    expect(platform.requests.map((r) => [r.method, r.path])).toEqual([
      ['GET', '/jobs/job_7/clanker'],
    ]);
  });

  it('throws a typed error: 404 at once and not retryable, 5xx retryable after retries', async () => {
    platform = await startPlatformStandIn({ token: TOKEN });
    platform.clanker = 404;
    const missing = await failure(fetchClanker(client(), 'job_1'));
    expect(missing).toMatchObject({ kind: 'http', status: 404, retryable: false, attempts: 1 });
    expect(missing.message).toContain('GET /jobs/job_1/clanker: HTTP 404');

    platform.clanker = { id: 'c', name: 'n', agent: 'claude-code' };
    platform.fail('clanker', { status: 502 }, 'always');
    const failing = await failure(fetchClanker(client(), 'job_1', { maxRetryTime: 300 }));
    expect(failing).toMatchObject({ kind: 'http', status: 502, retryable: true });
    expect(failing.attempts).toBeGreaterThan(1);

    platform.clearFaults();
    platform.fail('clanker', { status: 503 }, 2);
    expect(await fetchClanker(client(), 'job_1')).toMatchObject({ id: 'c' });
  });

  it('refuses an answer that is not a JSON object', async () => {
    platform = await startPlatformStandIn({ token: TOKEN });
    platform.clanker = ['not', 'an', 'object'];
    expect(await failure(fetchClanker(client(), 'job_1'))).toMatchObject({
      kind: 'invalid_answer',
      retryable: false,
    });
  });

  it('is refused with a wrong token, not retried', async () => {
    platform = await startPlatformStandIn({ token: TOKEN });
    expect(await failure(fetchClanker(client('wrong'), 'job_1'))).toMatchObject({
      status: 401,
      attempts: 1,
    });
    expect(platform.requests).toHaveLength(1);
  });
});

describe('fetchPlatformSecrets', () => {
  it('asks once for all keys and maps the answer; absent keys are missing', async () => {
    platform = await startPlatformStandIn({ token: TOKEN, jobId: 'job_1' });
    platform.secrets = { 'github-token': 'ghp_secret_value', 'npm-token': 'npm_value', other: 'o' };
    const values = await fetchPlatformSecrets(client(), 'job_1', [
      'github-token',
      'npm-token',
      'absent-key',
      'github-token',
    ]);
    expect([...values]).toEqual([
      ['github-token', 'ghp_secret_value'],
      ['npm-token', 'npm_value'],
    ]);
    expect(values.has('absent-key')).toBe(false);
    expect(platform.requests).toHaveLength(1);
    expect(platform.requests[0]?.body).toEqual({
      keys: ['github-token', 'npm-token', 'absent-key'],
    });
  });

  it('makes no request for no keys', async () => {
    platform = await startPlatformStandIn({ token: TOKEN });
    expect((await fetchPlatformSecrets(client(), 'job_1', [])).size).toBe(0);
    expect(platform.requests).toHaveLength(0);
  });

  it('throws typed errors: a 403 at once, a failing platform retryable', async () => {
    platform = await startPlatformStandIn({ token: TOKEN });
    platform.fail('secrets', { status: 403, body: { error: 'job may not read github-token' } });
    const forbidden = await failure(fetchPlatformSecrets(client(), 'job_1', ['github-token']));
    expect(forbidden).toMatchObject({ kind: 'http', status: 403, retryable: false, attempts: 1 });
    expect(forbidden.message).toContain('job may not read github-token');

    await platform.down();
    const down = await failure(
      fetchPlatformSecrets(client(), 'job_1', ['github-token'], { maxRetryTime: 300 }),
    );
    expect(down).toMatchObject({ kind: 'network', retryable: true });
  });

  it('refuses a malformed answer without echoing values', async () => {
    platform = await startPlatformStandIn({ token: TOKEN });
    platform.fail('secrets', { status: 200, body: { values: { a: 'leak_me_1' } } });
    expect(await failure(fetchPlatformSecrets(client(), 'job_1', ['a']))).toMatchObject({
      kind: 'invalid_answer',
    });
    platform.fail('secrets', { status: 200, body: { secrets: { a: 'fine', b: 42 } } });
    const wrongType = await failure(fetchPlatformSecrets(client(), 'job_1', ['a', 'b']));
    expect(wrongType.message).toContain('secrets["b"] is not a string');
    expect(JSON.stringify({ ...wrongType, message: wrongType.message })).not.toContain('fine');
  });
});
