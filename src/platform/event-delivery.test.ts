import { setTimeout as sleep, setImmediate as tick } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type PlatformStandIn,
  type ReceivedEvent,
  startPlatformStandIn,
} from '../../test/support/platform-stand-in.js';
import { EventStream } from '../core/event-stream.js';
import type { Result } from '../core/result.js';
import type { EventBody, WorkerEvent } from '../events.js';
import { Redactor } from '../secrets/redactor.js';
import {
  type DeliveryLogLevel,
  type DropNotice,
  EventDelivery,
  type EventDeliveryOptions,
} from './event-delivery.js';
import { PlatformClient } from './platform-http.js';
import { deliverResult } from './result-delivery.js';

const TOKEN = 'cb_events_test_token_7788';
const JOB = 'job_ev';
let platform: PlatformStandIn;
let delivery: EventDelivery | undefined;

afterEach(async () => {
  await delivery?.stop();
  delivery = undefined;
  await platform?.close();
});

type Logged = { level: DeliveryLogLevel; message: string; meta?: Record<string, unknown> };

function client(token = TOKEN, attemptTimeoutMs = 2000) {
  return new PlatformClient({
    baseUrl: platform.url,
    token,
    attemptTimeoutMs,
    backoff: { minMs: 20, maxMs: 100 },
  });
}

function start(
  opts: Partial<EventDeliveryOptions> & { token?: string; attemptTimeoutMs?: number } = {},
) {
  const logs: Logged[] = [];
  const cancels: number[] = [];
  const { token, attemptTimeoutMs, ...rest } = opts;
  const created = new EventDelivery({
    client: client(token, attemptTimeoutMs),
    jobId: JOB,
    log: (level, message, meta) => logs.push({ level, message, meta }),
    heartbeatMs: 60_000,
    flushMs: 50,
    giveUpAfterMs: 5000,
    onCancel: () => cancels.push(Date.now()),
    ...rest,
  } as EventDeliveryOptions);
  delivery = created;
  const stream = new EventStream(new Redactor(), () => {});
  stream.subscribe(created.onEvent); // bound: no wrapper needed
  return { delivery: created, stream, logs, cancels };
}

/** Event bodies cycling through the types an agent run produces. */
function body(i: number): EventBody {
  if (i % 1000 === 0) return { type: 'status', step: 'running_agent', state: 'started' };
  if (i % 1000 === 500) return { type: 'log', level: 'info', message: `log ${i}` };
  switch (i % 6) {
    case 0:
      return { type: 'agent.thinking', text: `thinking ${i}` };
    case 1:
      return { type: 'agent.tool_call', id: `t${i}`, name: 'Bash', kind: 'command', input: { i } };
    case 2:
      return { type: 'agent.tool_result', id: `t${i}`, ok: true, output: 'x'.repeat(200) };
    case 3:
      return { type: 'agent.message', role: 'assistant', text: `message ${i}` };
    case 4:
      return { type: 'agent.usage', inputTokens: 3, outputTokens: 1, costUsd: 0.5 };
    default:
      return { type: 'agent.thinking', text: `more thinking ${i}` };
  }
}

function seqsOf(events: readonly { seq: number }[]): number[] {
  return events.map((event) => event.seq);
}

function eventRequests() {
  return platform.requests.filter((r) => r.route === 'events');
}

function batchSeqs(request: { body: unknown }): number[] {
  return seqsOf((request.body as { events: ReceivedEvent[] }).events);
}

/** Seqs covered by the logged error lines' `ranges` (e.g. `1–10, 12`). */
function loggedRanges(logs: Logged[], level: DeliveryLogLevel): Set<number> {
  const seqs = new Set<number>();
  for (const entry of logs) {
    if (entry.level !== level || typeof entry.meta?.ranges !== 'string') continue;
    for (const part of entry.meta.ranges.split(', ')) {
      const [from, to] = part.split('–').map(Number) as [number, number | undefined];
      for (let seq = from; seq <= (to ?? from); seq += 1) seqs.add(seq);
    }
  }
  return seqs;
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

describe('EventDelivery', () => {
  it('delivers every event once, in order, through a platform failing with 503; the Result once', async () => {
    platform = await startPlatformStandIn({ token: TOKEN, jobId: JOB });
    platform.fail('events', { status: 503 }, 6);
    platform.fail('result', { status: 503 }, 3);
    const { stream, logs } = start({ maxBatch: 40 });
    const total = 300;
    for (let i = 1; i <= total; i += 1) {
      stream.emit(body(i));
      if (i % 25 === 0) await sleep(10);
    }
    expect(await delivery?.flush(10_000)).toEqual({ drained: true });
    const result: Result = {
      jobId: JOB,
      status: 'completed',
      startedAt: new Date().toISOString(),
      finishedAt: new Date().toISOString(),
      durationMs: 1,
    };
    expect(await deliverResult(client(), JOB, result, { deadlineMs: 10_000 })).toMatchObject({
      delivered: true,
      attempts: 4,
    });

    // Each event exactly once, in seq order; the platform's dedupe set is 1..N.
    expect(seqsOf(platform.events)).toEqual(range(1, total));
    expect(platform.results).toEqual([result]);
    // A retried batch is the same batch: same seq values, nothing added.
    const requests = eventRequests();
    requests.forEach((request, i) => {
      if (request.status !== 503) return;
      expect(batchSeqs(requests[i + 1] as { body: unknown })).toEqual(batchSeqs(request));
    });
    expect(requests.filter((r) => r.status === 503)).toHaveLength(6);
    expect(platform.maxInFlightOn('events')).toBe(1);
    expect(delivery?.stats()).toMatchObject({ delivered: total, givenUp: 0, shed: 0 });
    expect(logs.filter((l) => l.level === 'error' || l.level === 'warn')).toEqual([]);
  });

  it('paces batches by flushMs and sends waiting events at least that often', async () => {
    platform = await startPlatformStandIn({ token: TOKEN });
    const { stream } = start({ flushMs: 200 });
    const emitted = new Map<number, number>();
    for (let i = 1; i <= 40; i += 1) {
      emitted.set(stream.emit(body(i)).seq, Date.now());
      await sleep(25);
    }
    await delivery?.flush(5000);
    const requests = eventRequests();
    expect(seqsOf(platform.events)).toEqual(range(1, 40));
    for (let i = 1; i < requests.length - 1; i += 1) {
      const gap = (requests[i]?.at as number) - (requests[i - 1]?.at as number);
      expect(gap).toBeGreaterThanOrEqual(120); // 200 ms apart when sent; arrival jitters
    }
    for (const request of requests) {
      for (const seq of batchSeqs(request)) {
        expect(request.at - (emitted.get(seq) as number)).toBeLessThan(500);
      }
    }
    expect(requests.length).toBeLessThan(15);
  });

  it('sends heartbeats while silent, and stops them at flush', async () => {
    platform = await startPlatformStandIn({ token: TOKEN });
    const { stream } = start({ heartbeatMs: 200 });
    stream.emit({ type: 'status', step: 'running_agent', state: 'started' });
    await sleep(1100);
    const requests = eventRequests();
    const empty = requests.filter((r) => batchSeqs(r).length === 0);
    expect(empty.length).toBeGreaterThanOrEqual(4);
    for (let i = 1; i < requests.length; i += 1) {
      expect((requests[i]?.at as number) - (requests[i - 1]?.at as number)).toBeLessThan(300);
    }
    await delivery?.flush(1000);
    const after = eventRequests().length;
    await sleep(500);
    expect(eventRequests().length).toBe(after);
    expect(delivery?.stats().heartbeats).toBe(empty.length);
  });

  it('calls onCancel once when an answer asks to cancel', async () => {
    platform = await startPlatformStandIn({ token: TOKEN });
    platform.cancelAfterEvents = 5;
    const { stream, cancels, logs } = start({ maxBatch: 3, flushMs: 20 });
    for (let i = 1; i <= 12; i += 1) {
      stream.emit(body(i));
      await sleep(15);
    }
    await delivery?.flush(5000);
    expect(cancels).toHaveLength(1);
    expect(platform.events).toHaveLength(12);
    const cancelling = eventRequests().filter((r) => r.status === 200).length;
    expect(cancelling).toBeGreaterThan(2); // several answers said cancel; one call
    expect(delivery?.stats().cancelRequested).toBe(true);
    expect(logs.some((l) => l.message.includes('asked to cancel'))).toBe(true);
  });

  it('hears a cancel on a heartbeat', async () => {
    platform = await startPlatformStandIn({ token: TOKEN });
    platform.requestCancel();
    const { cancels } = start({ heartbeatMs: 100 });
    await sleep(450);
    expect(cancels).toHaveLength(1);
  });

  it('with the platform down for the whole run: gives events up with logged ranges, no Result, nothing hangs', async () => {
    platform = await startPlatformStandIn({ token: TOKEN });
    await platform.down();
    const started = performance.now();
    const { stream, logs } = start({ maxBatch: 10, giveUpAfterMs: 300, heartbeatMs: 100 });
    for (let i = 1; i <= 30; i += 1) stream.emit(body(i));
    expect(await delivery?.flush(10_000)).toEqual({ drained: true });
    const result = await deliverResult(
      client(),
      JOB,
      { jobId: JOB, status: 'failed', startedAt: '', finishedAt: '', durationMs: 0 },
      { deadlineMs: 400 },
    );
    await delivery?.stop();
    expect(result.delivered).toBe(false);
    expect(performance.now() - started).toBeLessThan(3000);
    // Every seq is named in an error line; the events are kept for the artifacts.
    expect([...loggedRanges(logs, 'error')].sort((a, b) => a - b)).toEqual(range(1, 30));
    expect(logs.filter((l) => l.level === 'error')).toHaveLength(3);
    expect(logs.find((l) => l.level === 'error')?.message).toMatch(
      /^events 1–10 \(10\) were not delivered to the platform: still failing after 0\.\d s: POST \/jobs\/job_ev\/events: network error/,
    );
    expect(seqsOf(delivery?.undeliveredEvents() ?? [])).toEqual(range(1, 30));
    expect(delivery?.stats()).toMatchObject({ givenUp: 30, delivered: 0 });
  });

  it('under a slow platform keeps memory bounded, one request in flight, and declares what it dropped', async () => {
    platform = await startPlatformStandIn({ token: TOKEN });
    platform.delay('events', 200);
    const { stream, logs } = start({ flushMs: 1000 });
    const total = 200_000;
    let usageInput = 0;
    const kept = new Set<number>();
    for (let i = 1; i <= total; i += 1) {
      const event = stream.emit(body(i));
      if (event.type === 'agent.usage') usageInput += event.inputTokens ?? 0;
      if (event.type === 'status' || event.type === 'log') kept.add(event.seq);
      if (i % 2000 === 0) {
        const stats = delivery?.stats();
        expect(stats?.waiting).toBeLessThanOrEqual(5000);
        expect(stats?.inFlight).toBeLessThanOrEqual(5000);
        await tick();
      }
    }
    expect(await delivery?.flush(30_000)).toEqual({ drained: true });
    const stats = delivery?.stats();
    expect(stats?.maxWaiting).toBeLessThanOrEqual(5000);
    expect(stats?.maxBatchSent).toBeLessThanOrEqual(5000);
    expect(stats?.shed).toBeGreaterThan(100_000);
    expect(platform.maxInFlightOn('events')).toBe(1);

    // Never reordered, nothing twice, no status or log event lost.
    const received = seqsOf(platform.events);
    for (let i = 1; i < received.length; i += 1) {
      expect(received[i] as number).toBeGreaterThan(received[i - 1] as number);
    }
    for (const seq of kept) expect(received).toContain(seq);
    // Received seqs plus the declared spans cover 1..N: every gap is declared.
    const notices = platform.events.filter((e) => 'dropped' in e) as unknown as DropNotice[];
    expect(notices.length).toBeGreaterThan(0);
    expect(stats?.notices).toBe(notices.length);
    const covered = new Set(received);
    for (const { dropped } of notices) {
      expect(dropped.count).toBeGreaterThan(0);
      for (let seq = dropped.fromSeq; seq <= dropped.toSeq; seq += 1) covered.add(seq);
    }
    expect(covered.size).toBe(total);
    for (const seq of covered) expect(seq >= 1 && seq <= total).toBe(true);
    for (const notice of notices) expect(notice).toMatchObject({ type: 'log', level: 'warn' });
    // Usage was merged, never lost: the sums match.
    const deliveredInput = platform.events
      .filter((e) => e.type === 'agent.usage')
      .reduce((sum, e) => sum + (e.inputTokens as number), 0);
    expect(deliveredInput).toBe(usageInput);
    // Drops are logged with their seq ranges.
    const warnings = logs.filter((l) => l.level === 'warn');
    expect(warnings.length).toBeGreaterThan(0);
    expect(warnings[0]?.message).toMatch(/dropped \d+ events .*seq \d+/);
    expect(loggedRanges(logs, 'warn').size).toBe(stats?.shed);
    expect(logs.filter((l) => l.level === 'error')).toEqual([]);
  }, 60_000);

  it('drops low-value events first, merges usage, and extends the notice still waiting', async () => {
    platform = await startPlatformStandIn({ token: TOKEN });
    platform.delay('events', 100);
    start({ maxQueued: 10, flushMs: 10 });
    const bodies: EventBody[] = [
      { type: 'status', step: 'running_agent', state: 'started' },
      { type: 'agent.thinking', text: 'a' },
      { type: 'agent.usage', inputTokens: 10, costUsd: 0.25 },
      { type: 'agent.tool_call', id: 't1', name: 'Bash', kind: 'command', input: {} },
      { type: 'agent.tool_result', id: 't1', ok: true, output: 'out' },
      { type: 'agent.message', role: 'assistant', text: 'm' },
      { type: 'agent.usage', inputTokens: 5, outputTokens: 2 },
      { type: 'agent.thinking', text: 'b' },
      { type: 'log', level: 'info', message: 'l' },
      { type: 'agent.tool_result', id: 't2', ok: false, output: 'out2' },
      { type: 'status', step: 'running_agent', state: 'completed' },
      { type: 'agent.tool_result', id: 't3', ok: true, output: 'out3' },
      { type: 'status', step: 'committing', state: 'started' },
      { type: 'agent.message', role: 'assistant', text: 'm2' },
      { type: 'agent.tool_call', id: 't4', name: 'Read', kind: 'read', input: {} },
      { type: 'log', level: 'warn', message: 'l2' },
    ];
    // Synchronously: nothing is sent before all are queued.
    bodies.forEach((b, i) => {
      delivery?.onEvent({ ...b, seq: i + 1, ts: `2026-01-01T00:00:${i}Z` } as WorkerEvent);
    });
    await delivery?.flush(5000);
    // At 11: usage 3 merged into 7, thinking 2 and 8 dropped (a notice takes seq 2). At 13:
    // tool results 5, 10, 12. At 16: messages 6 and 14, then the oldest tool call, 4.
    expect(seqsOf(platform.events)).toEqual([1, 2, 7, 9, 11, 13, 15, 16]);
    expect(platform.events[1]).toMatchObject({
      type: 'log',
      level: 'warn',
      seq: 2,
      ts: '2026-01-01T00:00:1Z',
      dropped: {
        fromSeq: 2,
        toSeq: 14,
        count: 9,
        types: {
          'agent.usage': 1,
          'agent.thinking': 2,
          'agent.tool_result': 3,
          'agent.message': 2,
          'agent.tool_call': 1,
        },
      },
    });
    expect(platform.events[1]?.message).toContain('9 events between seq 2 and 14');
    expect(platform.events[2]).toEqual({
      type: 'agent.usage',
      inputTokens: 15,
      outputTokens: 2,
      costUsd: 0.25,
      seq: 7,
      ts: '2026-01-01T00:00:6Z',
    });
    expect(delivery?.stats()).toMatchObject({ shed: 9, notices: 1, maxWaiting: 10 });
  });

  it('is not retried after 401: the batch is dropped and logged, later batches still tried', async () => {
    platform = await startPlatformStandIn({ token: TOKEN });
    const { stream, logs } = start({ token: 'wrong-token', maxBatch: 5 });
    for (let i = 1; i <= 12; i += 1) stream.emit(body(i));
    expect(await delivery?.flush(5000)).toEqual({ drained: true });
    const requests = eventRequests();
    expect(requests.map((r) => r.status)).toEqual([401, 401, 401]);
    expect(requests.map(batchSeqs)).toEqual([range(1, 5), range(6, 10), range(11, 12)]);
    const errors = logs.filter((l) => l.level === 'error');
    expect(errors.map((l) => l.meta?.ranges)).toEqual(['1–5', '6–10', '11–12']);
    expect(errors[0]?.message).toContain('refused by the platform');
    expect(errors[0]?.meta).toMatchObject({ status: 401, attempts: 1 });
  });

  it('drops a batch refused with 400 and goes on with the next', async () => {
    platform = await startPlatformStandIn({ token: TOKEN });
    platform.fail('events', { status: 400, body: { error: 'bad batch' } });
    const { stream, logs } = start({ maxBatch: 4 });
    for (let i = 1; i <= 10; i += 1) stream.emit(body(i));
    await delivery?.flush(5000);
    expect(seqsOf(platform.events)).toEqual(range(5, 10));
    expect(logs.filter((l) => l.level === 'error').map((l) => l.meta?.ranges)).toEqual(['1–4']);
  });

  it('resends the same seqs after a timeout; duplicates dedupe to 1..N', async () => {
    platform = await startPlatformStandIn({ token: TOKEN });
    platform.delay('events', 400);
    const { stream } = start({ attemptTimeoutMs: 250, maxBatch: 50 });
    for (let i = 1; i <= 20; i += 1) stream.emit(body(i));
    await sleep(300);
    platform.delay('events', 0);
    expect(await delivery?.flush(5000)).toEqual({ drained: true });
    const counts = platform.deliveriesBySeq();
    expect([...counts.keys()].sort((a, b) => a - b)).toEqual(range(1, 20));
    // The duplicate is the whole first batch again: received, in arrival order.
    await sleep(200); // the stand-in accepts the abandoned request when its delay ends
    const received = seqsOf(platform.events);
    expect(received.length).toBeGreaterThan(20);
    expect(received.slice(0, 20)).toEqual(range(1, 20));
    expect(platform.maxInFlightOn('events')).toBe(1);
  });

  it('stop() aborts the request in flight and logs what was not delivered', async () => {
    platform = await startPlatformStandIn({ token: TOKEN });
    platform.hang('events');
    const { stream, logs } = start({ maxBatch: 5 });
    for (let i = 1; i <= 8; i += 1) stream.emit(body(i));
    await sleep(100);
    const flushing = delivery?.flush(60_000);
    const started = performance.now();
    await delivery?.stop();
    expect(performance.now() - started).toBeLessThan(500);
    expect(await flushing).toEqual({ drained: false, waiting: 8 });
    expect([...loggedRanges(logs, 'error')].sort((a, b) => a - b)).toEqual(range(1, 8));
    expect(seqsOf(delivery?.undeliveredEvents() ?? [])).toEqual(range(1, 8));
    stream.emit(body(9));
    expect(logs.at(-1)).toMatchObject({ level: 'error', meta: { seq: 9 } });
    expect(delivery?.stats()).toMatchObject({ abandoned: 9, delivered: 0 });
  });

  it('flush() resolves on time even when the platform never answers', async () => {
    platform = await startPlatformStandIn({ token: TOKEN });
    platform.hang('events');
    const { stream } = start();
    for (let i = 1; i <= 3; i += 1) stream.emit(body(i));
    const started = performance.now();
    expect(await delivery?.flush(300)).toEqual({ drained: false, waiting: 3 });
    expect(performance.now() - started).toBeLessThan(600);
  });

  it('a throwing log or cancel handler does not stop delivery', async () => {
    platform = await startPlatformStandIn({ token: TOKEN });
    platform.requestCancel();
    platform.fail('events', { status: 400 });
    delivery = new EventDelivery({
      baseUrl: platform.url,
      token: TOKEN,
      jobId: JOB,
      flushMs: 10,
      log: () => {
        throw new Error('log broken');
      },
      onCancel: () => {
        throw new Error('cancel broken');
      },
    });
    for (let i = 1; i <= 6; i += 1) {
      delivery.onEvent({ ...body(i), seq: i, ts: 't' } as WorkerEvent);
      await sleep(30);
    }
    expect(await delivery.flush(5000)).toEqual({ drained: true });
    expect(platform.events.length).toBeGreaterThan(0);
    expect(delivery.stats().cancelRequested).toBe(true);
  });
});
