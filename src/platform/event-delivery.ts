/**
 * Delivers the job's events to the platform (platform-api.md, "Delivery rules"):
 * `POST /jobs/{jobId}/events` with `{ events: [...] }`, in batches, never reordered, at most one
 * request in flight, a batch at least every `flushMs` while events wait, a heartbeat (an empty
 * batch when nothing waits) at least every `heartbeatMs`, and `"cancel": true` in any answer
 * turned into one `onCancel()`.
 *
 * Bounded: a batch is retried with backoff and jitter (5xx, 408, 429, network errors, no answer)
 * for at most `giveUpAfterMs`, then given up; a 4xx refusal gives it up at once. Either way its
 * seq range is logged at error level. When more than `maxQueued` events wait (a slow platform),
 * low-value events are dropped first and `agent.usage` increments are merged (their sum kept);
 * `status` and `log` events are never dropped. Dropped events are replaced by one `log` event
 * at warn level (a {@link DropNotice}) that takes the seq of the first event it replaces and
 * declares the span of seqs dropped, so the platform can tell a declared drop from a loss; the
 * local log gets the exact ranges (docs/decisions.md, "Event delivery").
 */
import { addUsage, type Usage } from '../core/result.js';
import type { LogEvent, WorkerEvent } from '../events.js';
import { jobPath } from './platform-api.js';
import { PlatformClient, type PlatformError } from './platform-http.js';

export type DeliveryLogLevel = 'error' | 'warn' | 'info' | 'debug';

/** Where the delivery reports (the worker's logger, never an event: that would loop). */
export type DeliveryLog = (
  level: DeliveryLogLevel,
  message: string,
  meta?: Record<string, unknown>,
) => void;

/** The platform to talk to: a client, or the callback's URL and token. */
export type DeliveryTarget = { client: PlatformClient } | { baseUrl: string; token: string };

export type EventDeliveryOptions = DeliveryTarget & {
  jobId: string;
  log: DeliveryLog;
  /** A POST to `/events` at least this often while running (empty when nothing waits). Default 15 s. */
  heartbeatMs?: number;
  /** Waiting events are sent at least this often, and batches are at most this frequent. Default 1 s. */
  flushMs?: number;
  /** Most events waiting (beyond the batch in flight) before low-value ones are dropped. Default 5000. */
  maxQueued?: number;
  /** Most events in one request. Default 5000. */
  maxBatch?: number;
  /** Most bytes (JSON) of events in one request; a single larger event still goes alone. Default 1 MiB. */
  maxBatchBytes?: number;
  /** A batch still failing after this long is given up (logged with its seq range). Default 60 s. */
  giveUpAfterMs?: number;
  /** Called once, when an answer carries `"cancel": true`. */
  onCancel?: () => void;
};

/** Declared in a {@link DropNotice}: every seq in `fromSeq..toSeq` the platform does not receive was dropped. */
export interface DroppedSpan {
  fromSeq: number;
  toSeq: number;
  /** Events removed (dropped, or merged into another `agent.usage`); the notice took the seq of one of them. */
  count: number;
  /** Removed events by type. */
  types: Record<string, number>;
}

/** The `log` event that stands for events dropped while the platform was slow. */
export type DropNotice = LogEvent & { seq: number; ts: string; dropped: DroppedSpan };

/** How a {@link EventDelivery.flush} ended. */
export type FlushOutcome = { drained: true } | { drained: false; waiting: number };

/** A closed range of seq values. */
export interface SeqRange {
  from: number;
  to: number;
}

/** Counters for tests and a final log line. */
export interface EventDeliveryStats {
  /** Events given to {@link EventDelivery.onEvent}. */
  received: number;
  /** Events in batches the platform accepted (each counted once, however often it was sent). */
  delivered: number;
  /** Events waiting now. */
  waiting: number;
  /** Events in the request in flight now. */
  inFlight: number;
  /** The most events that ever waited at once (after dropping). */
  maxWaiting: number;
  /** The largest batch sent. */
  maxBatchSent: number;
  /** Events dropped or merged because too many waited. */
  shed: number;
  /** Drop notices created. */
  notices: number;
  /** Events in batches given up (failing for too long, or refused). */
  givenUp: number;
  /** Events still undelivered when the delivery stopped, or received after it. */
  abandoned: number;
  /** POSTs started (each retried batch once). */
  posts: number;
  /** Of those, empty heartbeats. */
  heartbeats: number;
  /** Whether the platform asked to cancel. */
  cancelRequested: boolean;
}

type UsageEvent = Extract<WorkerEvent, { type: 'agent.usage' }>;

function isUsage(event: WorkerEvent): event is UsageEvent {
  return event.type === 'agent.usage';
}

/** The order low-value events are dropped in; `status` and `log` never are. */
const DROP_ORDER = ['agent.thinking', 'agent.tool_result', 'agent.message', 'agent.tool_call'];
/** After dropping, at most this share of `maxQueued` waits: one notice covers many events. */
const LOW_WATER = 0.8;
/** Ranges written into a log message; the `ranges` field of its metadata has them all. */
const MESSAGE_RANGES = 20;

export class EventDelivery {
  private readonly client: PlatformClient;
  private readonly path: string;
  private readonly log: DeliveryLog;
  private readonly heartbeatMs: number;
  private readonly flushMs: number;
  private readonly maxQueued: number;
  private readonly maxBatch: number;
  private readonly maxBatchBytes: number;
  private readonly giveUpAfterMs: number;
  private readonly onCancel: (() => void) | undefined;

  private pending: WorkerEvent[] = [];
  private inFlight: WorkerEvent[] = [];
  /** Events given up, kept (at most `maxQueued`, the newest) for {@link undeliveredEvents}. */
  private retained: WorkerEvent[] = [];
  /** The notice still waiting, which a further drop extends instead of adding another. */
  private openNotice: DropNotice | undefined;
  private stopped = false;
  private flushing = false;
  private heartbeatOn = true;
  private platformFailing = false;
  private cancelSeen = false;
  private lastPostAt: number;
  private lastBatchAt = Number.NEGATIVE_INFINITY;
  private wakeUp: (() => void) | undefined;
  private drainWaiters: Array<(outcome: FlushOutcome) => void> = [];
  private readonly abort = new AbortController();
  private readonly loopDone: Promise<void>;
  private readonly counts: Omit<EventDeliveryStats, 'waiting' | 'inFlight' | 'cancelRequested'> = {
    received: 0,
    delivered: 0,
    maxWaiting: 0,
    maxBatchSent: 0,
    shed: 0,
    notices: 0,
    givenUp: 0,
    abandoned: 0,
    posts: 0,
    heartbeats: 0,
  };

  /** Starts the heartbeat at once; call {@link stop} when the job is over. */
  constructor(opts: EventDeliveryOptions) {
    this.client =
      'client' in opts
        ? opts.client
        : new PlatformClient({ baseUrl: opts.baseUrl, token: opts.token });
    this.path = jobPath(opts.jobId, 'events');
    this.log = opts.log;
    this.heartbeatMs = opts.heartbeatMs ?? 15_000;
    this.flushMs = opts.flushMs ?? 1000;
    this.maxQueued = Math.max(1, opts.maxQueued ?? 5000);
    this.maxBatch = Math.max(1, opts.maxBatch ?? 5000);
    this.maxBatchBytes = opts.maxBatchBytes ?? 1024 * 1024;
    this.giveUpAfterMs = opts.giveUpAfterMs ?? 60_000;
    this.onCancel = opts.onCancel;
    this.lastPostAt = performance.now();
    this.loopDone = this.loop().catch((error: unknown) => {
      this.report('error', `event delivery stopped unexpectedly: ${String(error)}`);
    });
  }

  /**
   * The EventStream listener (bound: `stream.subscribe(delivery.onEvent)`): queues one
   * numbered, redacted event. Never throws, never waits.
   */
  readonly onEvent = (event: WorkerEvent): void => {
    this.counts.received += 1;
    if (this.stopped) {
      this.counts.abandoned += 1;
      this.report(
        'error',
        `event ${event.seq} (${event.type}) came after event delivery stopped: not delivered`,
        {
          seq: event.seq,
          type: event.type,
        },
      );
      return;
    }
    if (this.pending.length >= this.maxQueued) this.shed();
    this.pending.push(event);
    if (this.pending.length > this.counts.maxWaiting) this.counts.maxWaiting = this.pending.length;
    if (this.pending.length === 1 || this.flushing) {
      this.wake();
    }
  };

  /**
   * Sends whatever waits at once, stops the heartbeat, and resolves when nothing waits or is
   * in flight (delivered or given up), or after `timeoutMs` (the delivery goes on; call
   * {@link stop} to end it). Events that come later are still sent, without pacing.
   */
  flush(timeoutMs: number): Promise<FlushOutcome> {
    this.flushing = true;
    this.heartbeatOn = false;
    this.wake();
    if (this.drained()) return Promise.resolve({ drained: true });
    return new Promise((resolve) => {
      const done = (outcome: FlushOutcome) => {
        clearTimeout(timer);
        resolve(outcome);
      };
      const timer = setTimeout(() => {
        this.drainWaiters = this.drainWaiters.filter((waiter) => waiter !== done);
        resolve({ drained: false, waiting: this.pending.length + this.inFlight.length });
      }, timeoutMs);
      this.drainWaiters.push(done);
    });
  }

  /**
   * Ends the delivery: the request in flight is aborted, nothing more is sent, and every event
   * not delivered is logged (error level, seq ranges) and kept for {@link undeliveredEvents}.
   */
  async stop(): Promise<void> {
    if (!this.stopped) {
      this.stopped = true;
      this.heartbeatOn = false;
      this.abort.abort();
      this.wake();
    }
    await this.loopDone;
    const left = this.pending;
    if (left.length > 0) {
      this.pending = [];
      this.openNotice = undefined;
      this.counts.abandoned += left.length;
      this.reportLoss(left, 'event delivery was stopped before they could be sent');
      this.retain(left);
    }
    this.resolveDrainWaiters(
      left.length > 0 ? { drained: false, waiting: left.length } : { drained: true },
    );
  }

  /** Events not delivered (given up, still waiting or in flight), in seq order; bounded. */
  undeliveredEvents(): WorkerEvent[] {
    return [...this.retained, ...this.inFlight, ...this.pending];
  }

  stats(): EventDeliveryStats {
    return {
      ...this.counts,
      waiting: this.pending.length,
      inFlight: this.inFlight.length,
      cancelRequested: this.cancelSeen,
    };
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      const wait = this.nextSendIn();
      if (wait > 0) {
        await this.sleep(wait);
        continue;
      }
      await this.send();
      if (this.drained()) this.resolveDrainWaiters();
    }
  }

  /** Milliseconds until the next POST is due; Infinity when nothing is due. */
  private nextSendIn(): number {
    let due = Number.POSITIVE_INFINITY;
    if (this.pending.length > 0) {
      // Paced by flushMs alone, also when a full batch waits: a busy agent must not turn into
      // back-to-back requests (platform-api.md; bench/events), it fills bigger batches.
      if (this.flushing) return 0;
      due = this.lastBatchAt + this.flushMs;
    }
    if (this.heartbeatOn) due = Math.min(due, this.lastPostAt + this.heartbeatMs);
    return Math.max(0, due - performance.now());
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const done = () => {
        if (timer) clearTimeout(timer);
        this.wakeUp = undefined;
        resolve();
      };
      this.wakeUp = done;
      if (Number.isFinite(ms)) {
        timer = setTimeout(done, ms);
        // The delivery alone never keeps the process alive.
        timer.unref();
      }
    });
  }

  private wake(): void {
    this.wakeUp?.();
  }

  private drained(): boolean {
    return this.pending.length === 0 && this.inFlight.length === 0;
  }

  private resolveDrainWaiters(outcome: FlushOutcome = { drained: true }): void {
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const waiter of waiters) waiter(outcome);
  }

  private async send(): Promise<void> {
    const batch = this.takeBatch();
    this.inFlight = batch;
    const startedAt = performance.now();
    this.lastPostAt = startedAt;
    if (batch.length > 0) this.lastBatchAt = startedAt;
    this.counts.posts += 1;
    if (batch.length === 0) this.counts.heartbeats += 1;
    if (batch.length > this.counts.maxBatchSent) this.counts.maxBatchSent = batch.length;
    try {
      await this.client.request(
        { method: 'POST', path: this.path, body: { events: batch } },
        {
          maxRetryTime: this.giveUpAfterMs,
          // A heartbeat is not retried: the next one is due soon, and events must not wait.
          retries: batch.length === 0 ? 0 : undefined,
          signal: this.abort.signal,
          onAnswer: ({ body }) => this.checkCancel(body),
          onAttemptFailed: (error, attempt) => {
            if (batch.length === 0) return;
            this.report(
              'debug',
              `event batch ${rangeText(batch)}: attempt ${attempt} failed: ${error.message}`,
            );
          },
        },
      );
      this.counts.delivered += batch.length;
      if (this.platformFailing) {
        this.platformFailing = false;
        this.report('info', 'the platform accepts events again');
      }
    } catch (thrown) {
      const error = thrown as PlatformError;
      if (this.stopped) {
        // Aborted by stop(): back to the front, so stop() reports it with the rest.
        this.pending = [...batch, ...this.pending];
      } else if (batch.length === 0) {
        if (!this.platformFailing) {
          this.platformFailing = true;
          this.report('warn', `heartbeat to the platform failed: ${error.message}`, {
            status: error.status,
          });
        }
      } else {
        this.counts.givenUp += batch.length;
        this.platformFailing = true;
        const why = error.retryable
          ? `still failing after ${((performance.now() - startedAt) / 1000).toFixed(1)} s`
          : 'refused by the platform';
        this.reportLoss(batch, `${why}: ${error.message}`, {
          status: error.status,
          attempts: error.attempts,
        });
        this.retain(batch);
      }
    } finally {
      this.inFlight = [];
    }
  }

  /** Takes the next batch from the front: at most `maxBatch` events and `maxBatchBytes`. */
  private takeBatch(): WorkerEvent[] {
    let count = 0;
    let bytes = 0;
    while (count < this.pending.length && count < this.maxBatch) {
      const size = JSON.stringify(this.pending[count]).length + 1;
      if (count > 0 && bytes + size > this.maxBatchBytes) break;
      bytes += size;
      count += 1;
    }
    const batch = this.pending.splice(0, count);
    if (this.openNotice && batch.includes(this.openNotice)) this.openNotice = undefined;
    return batch;
  }

  private checkCancel(body: unknown): void {
    if (this.cancelSeen) return;
    if (!body || typeof body !== 'object' || (body as { cancel?: unknown }).cancel !== true) return;
    this.cancelSeen = true;
    this.report('info', 'the platform asked to cancel the job');
    try {
      this.onCancel?.();
    } catch (error) {
      this.report('error', `the cancel handler failed: ${String(error)}`);
    }
  }

  /**
   * Makes room: merges the waiting `agent.usage` events into the last of them (their sum),
   * then drops the oldest events of the lowest value until at most `LOW_WATER × maxQueued`
   * wait, and declares what was removed in one notice (extending the one still waiting).
   */
  private shed(): void {
    const target = Math.max(0, Math.floor(this.maxQueued * LOW_WATER));
    let excess = this.pending.length + 1 - target;
    if (excess <= 0) return;
    const removed = new Set<WorkerEvent>();
    const types: Record<string, number> = {};
    const remove = (event: WorkerEvent) => {
      removed.add(event);
      types[event.type] = (types[event.type] ?? 0) + 1;
      excess -= 1;
    };

    // Lossless first: one usage event carrying the sum of all waiting ones.
    const usage = this.pending.filter(isUsage);
    let merged: { last: WorkerEvent; replacement: WorkerEvent } | undefined;
    if (usage.length > 1) {
      const last = usage[usage.length - 1] as UsageEvent;
      let total: Usage = {};
      for (const event of usage) total = addUsage(total, event);
      merged = { last, replacement: { type: 'agent.usage', ...total, seq: last.seq, ts: last.ts } };
      for (const event of usage) if (event !== last) remove(event);
    }
    for (const type of DROP_ORDER) {
      if (excess <= 0) break;
      for (const event of this.pending) {
        if (excess <= 0) break;
        if (event.type === type && !removed.has(event) && event !== merged?.last) remove(event);
      }
    }
    if (removed.size === 0) return; // only status and log wait: nothing may go

    const seqs = [...removed].map((event) => event.seq).sort((a, b) => a - b);
    const first = seqs[0] as number;
    const last = seqs[seqs.length - 1] as number;
    // A notice still waiting is extended; else a new one takes the first removed event's place.
    const open = this.openNotice;
    const firstRemoved = open ? undefined : this.pending.find((event) => event.seq === first);
    const notice = open ?? this.newNotice(firstRemoved as WorkerEvent);
    const kept: WorkerEvent[] = [];
    for (const event of this.pending) {
      if (event === firstRemoved) kept.push(notice);
      else if (!removed.has(event)) kept.push(event === merged?.last ? merged.replacement : event);
    }
    this.pending = kept;
    const span = notice.dropped;
    span.fromSeq = Math.min(span.fromSeq, first);
    span.toSeq = Math.max(span.toSeq, last);
    span.count += removed.size;
    for (const [type, n] of Object.entries(types)) span.types[type] = (span.types[type] ?? 0) + n;
    notice.message = noticeMessage(span);
    this.counts.shed += removed.size;
    const ranges = toRanges(seqs);
    this.report(
      'warn',
      `the platform is not keeping up (${this.pending.length} events waiting): dropped ${removed.size} ` +
        `events (${typeList(types)}), seq ${rangesText(ranges, MESSAGE_RANGES)}`,
      { fromSeq: first, toSeq: last, count: removed.size, types, ranges: rangesText(ranges) },
    );
  }

  /** A notice taking the place (seq, ts) of `event`; its span is filled in by {@link shed}. */
  private newNotice(event: WorkerEvent): DropNotice {
    const notice: DropNotice = {
      type: 'log',
      level: 'warn',
      message: '',
      seq: event.seq,
      ts: event.ts,
      dropped: { fromSeq: event.seq, toSeq: event.seq, count: 0, types: {} },
    };
    this.openNotice = notice;
    this.counts.notices += 1;
    return notice;
  }

  private reportLoss(events: WorkerEvent[], why: string, meta: Record<string, unknown> = {}): void {
    const ranges = toRanges(events.map((event) => event.seq));
    this.report(
      'error',
      `events ${rangesText(ranges, MESSAGE_RANGES)} (${events.length}) were not delivered to the platform: ${why}`,
      {
        ...meta,
        fromSeq: events[0]?.seq,
        toSeq: events[events.length - 1]?.seq,
        count: events.length,
        ranges: rangesText(ranges),
      },
    );
  }

  private retain(events: WorkerEvent[]): void {
    this.retained.push(...events);
    if (this.retained.length > this.maxQueued) {
      this.retained.splice(0, this.retained.length - this.maxQueued);
    }
  }

  private report(level: DeliveryLogLevel, message: string, meta?: Record<string, unknown>): void {
    try {
      this.log(level, message, meta);
    } catch {
      // the log is best effort: it never stops delivery
    }
  }
}

function noticeMessage(span: DroppedSpan): string {
  return (
    `the platform was not keeping up: ${span.count} events between seq ${span.fromSeq} and ` +
    `${span.toSeq} were dropped or merged (${typeList(span.types)}); every seq in that span ` +
    'not received was dropped on purpose'
  );
}

function typeList(types: Record<string, number>): string {
  return Object.entries(types)
    .map(([type, n]) => (type === 'agent.usage' ? `${n} agent.usage merged` : `${n} ${type}`))
    .join(', ');
}

/** Sorted seqs as closed ranges. */
export function toRanges(seqs: readonly number[]): SeqRange[] {
  const ranges: SeqRange[] = [];
  for (const seq of seqs) {
    const last = ranges[ranges.length - 1];
    if (last && seq === last.to + 1) last.to = seq;
    else if (!last || seq > last.to) ranges.push({ from: seq, to: seq });
  }
  return ranges;
}

/** `1–10, 12, 15–20`, cut after `limit` ranges (`(+N more ranges)`). */
export function rangesText(ranges: readonly SeqRange[], limit = Number.POSITIVE_INFINITY): string {
  const shown = ranges
    .slice(0, limit)
    .map((range) => (range.from === range.to ? `${range.from}` : `${range.from}–${range.to}`))
    .join(', ');
  const more = ranges.length - limit;
  return more > 0 ? `${shown} (+${more} more ranges)` : shown;
}

function rangeText(batch: readonly WorkerEvent[]): string {
  const first = batch[0]?.seq;
  const last = batch[batch.length - 1]?.seq;
  return first === last ? `${first}` : `${first}–${last}`;
}
