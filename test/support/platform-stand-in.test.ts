import { afterEach, describe, expect, it } from 'vitest';
import { type PlatformStandIn, startPlatformStandIn } from './platform-stand-in.js';

const TOKEN = 'cb_stand_in_token_1234';
let platform: PlatformStandIn;

afterEach(async () => {
  await platform?.close();
});

function call(
  path: string,
  opts: { method?: string; body?: unknown; token?: string | null; signal?: AbortSignal } = {},
): Promise<Response> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (opts.token !== null) headers.authorization = `Bearer ${opts.token ?? TOKEN}`;
  return fetch(`${platform.url}${path}`, {
    method: opts.method ?? (opts.body === undefined ? 'GET' : 'POST'),
    headers,
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
    signal: opts.signal,
  });
}

describe('platform stand-in', () => {
  it('serves the four calls and records them without the token', async () => {
    platform = await startPlatformStandIn({ token: TOKEN, jobId: 'job_1' });
    platform.secrets = { 'github-token': 'ghp_x', other: 'y' };
    expect(platform.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

    const clanker = await call('/jobs/job_1/clanker');
    expect(clanker.status).toBe(200);
    expect(await clanker.json()).toMatchObject({ agent: 'claude-code' });

    const secrets = await call('/jobs/job_1/secrets', { body: { keys: ['github-token', 'nope'] } });
    expect(await secrets.json()).toEqual({ secrets: { 'github-token': 'ghp_x' } });

    const events = await call('/jobs/job_1/events', {
      body: { events: [{ seq: 1, ts: 't', type: 'log', level: 'info', message: 'hi' }] },
    });
    expect(events.status).toBe(200);
    expect(await events.json()).toEqual({});
    const result = await call('/jobs/job_1/result', {
      body: { jobId: 'job_1', status: 'completed' },
    });
    expect(result.status).toBe(200);

    expect(platform.events.map((event) => event.seq)).toEqual([1]);
    expect(platform.results).toEqual([{ jobId: 'job_1', status: 'completed' }]);
    expect(platform.requests.map((r) => [r.method, r.route, r.status])).toEqual([
      ['GET', 'clanker', 200],
      ['POST', 'secrets', 200],
      ['POST', 'events', 200],
      ['POST', 'result', 200],
    ]);
    for (const request of platform.requests) {
      expect(request.authorized).toBe(true);
      expect(request.headers.authorization).toBeUndefined();
      expect(JSON.stringify(request)).not.toContain(TOKEN);
    }
    expect(platform.requests[1]?.body).toEqual({ keys: ['github-token', 'nope'] });
  });

  it('answers 401 to a missing or wrong token, 404 to another job, 405 to a wrong method', async () => {
    platform = await startPlatformStandIn({ token: TOKEN, jobId: 'job_1' });
    expect((await call('/jobs/job_1/clanker', { token: null })).status).toBe(401);
    expect((await call('/jobs/job_1/clanker', { token: 'wrong' })).status).toBe(401);
    expect((await call('/jobs/job_2/clanker')).status).toBe(404);
    expect((await call('/jobs/job_1/elsewhere')).status).toBe(404);
    expect((await call('/jobs/job_1/events', { method: 'GET' })).status).toBe(405);
    expect((await call('/jobs/job_1/events', { body: { nope: 1 } })).status).toBe(400);
    expect(platform.requests.map((r) => r.authorized)).toEqual([
      false,
      false,
      true,
      true,
      true,
      true,
    ]);
    expect(platform.events).toEqual([]);
  });

  it('answers a clanker status and any job without a jobId option', async () => {
    platform = await startPlatformStandIn({ token: TOKEN });
    platform.clanker = 404;
    const answer = await call('/jobs/any_job/clanker');
    expect(answer.status).toBe(404);
    expect(await answer.json()).toHaveProperty('error');
    platform.clanker = { id: 'c', name: 'n', agent: 'codex' };
    expect(await (await call('/jobs/other/clanker')).json()).toEqual({
      id: 'c',
      name: 'n',
      agent: 'codex',
    });
  });

  it('fails a route the scripted number of times, then always, until cleared', async () => {
    platform = await startPlatformStandIn({ token: TOKEN });
    platform.fail('result', { status: 503 }, 2);
    platform.fail('result', {
      status: 429,
      body: { error: 'slow down' },
      headers: { 'retry-after': '1' },
    });
    const body = { jobId: 'j', status: 'completed' };
    expect((await call('/jobs/j/result', { body })).status).toBe(503);
    expect((await call('/jobs/j/result', { body })).status).toBe(503);
    const limited = await call('/jobs/j/result', { body });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('1');
    expect(await limited.json()).toEqual({ error: 'slow down' });
    expect((await call('/jobs/j/result', { body })).status).toBe(200);
    expect(platform.results).toHaveLength(1);

    platform.fail('events', { status: 500 }, 'always');
    for (let i = 0; i < 3; i += 1) {
      expect((await call('/jobs/j/events', { body: { events: [] } })).status).toBe(500);
    }
    platform.clearFaults();
    expect((await call('/jobs/j/events', { body: { events: [] } })).status).toBe(200);
  });

  it('delays answers and counts requests in flight', async () => {
    platform = await startPlatformStandIn({ token: TOKEN });
    platform.delay('events', 150);
    const started = Date.now();
    const answers = await Promise.all(
      [1, 2, 3].map((seq) =>
        call('/jobs/j/events', { body: { events: [{ seq, ts: 't', type: 'log' }] } }),
      ),
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
    expect(platform.maxInFlight).toBe(3);
    expect(platform.maxInFlightOn('events')).toBe(3);
    expect(platform.maxInFlightOn('result')).toBe(0);
    expect(platform.inFlight).toBe(0);
  });

  it('hangs a route: the request is read and never answered', async () => {
    platform = await startPlatformStandIn({ token: TOKEN });
    platform.hang('clanker');
    const answer = call('/jobs/j/clanker', { signal: AbortSignal.timeout(200) });
    await expect(answer).rejects.toThrow();
    expect(platform.requests).toHaveLength(1);
    expect(platform.requests[0]?.status).toBeUndefined();
    platform.clearFaults();
    expect((await call('/jobs/j/clanker')).status).toBe(200);
  });

  it('asks to cancel after N events, or when told to', async () => {
    platform = await startPlatformStandIn({ token: TOKEN });
    platform.cancelAfterEvents = 3;
    const post = async (seqs: number[]) =>
      (await call('/jobs/j/events', {
        body: { events: seqs.map((seq) => ({ seq, ts: 't', type: 'log' })) },
      }).then((a) => a.json())) as unknown;
    expect(await post([1, 2])).toEqual({});
    expect(await post([3])).toEqual({ cancel: true });
    expect(await post([])).toEqual({ cancel: true });

    await platform.close();
    platform = await startPlatformStandIn({ token: TOKEN });
    expect(await post([1])).toEqual({});
    platform.requestCancel();
    expect(await post([])).toEqual({ cancel: true });
  });

  it('goes down and comes back up on the same port', async () => {
    platform = await startPlatformStandIn({ token: TOKEN });
    platform.hang('events');
    const hanging = call('/jobs/j/events', { body: { events: [] } });
    await new Promise((resolve) => setTimeout(resolve, 50));
    await platform.down();
    await expect(hanging).rejects.toThrow(); // its connection was destroyed
    await expect(call('/jobs/j/clanker')).rejects.toThrow(); // refused
    await platform.up();
    platform.clearFaults();
    expect((await call('/jobs/j/clanker')).status).toBe(200);
  });

  it('keeps duplicates and tells how often each seq arrived', async () => {
    platform = await startPlatformStandIn({ token: TOKEN });
    const body = { events: [1, 2].map((seq) => ({ seq, ts: 't', type: 'log' })) };
    await call('/jobs/j/events', { body });
    await call('/jobs/j/events', { body });
    expect(platform.events.map((e) => e.seq)).toEqual([1, 2, 1, 2]);
    expect([...platform.deliveriesBySeq()]).toEqual([
      [1, 2],
      [2, 2],
    ]);
  });
});
