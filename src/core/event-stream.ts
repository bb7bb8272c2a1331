import type { EventBody, WorkerEvent } from '../events.js';
import type { Redactor } from '../secrets/redactor.js';

/** Receives every event, already numbered and redacted. */
export type EventListener = (event: WorkerEvent) => void;

/** Where a failing listener is reported; one line of text, no event content. */
export type ListenerErrorReporter = (line: string) => void;

/** Enough of an error's message to tell what broke, not enough to carry a payload. */
const ERROR_EXCERPT = 200;

/**
 * Numbers events from 1 with no gaps, stamps them and redacts every string in them before
 * any listener (progress view, callback client) sees them.
 *
 * A listener is outside the job: a broken pipe in the progress view or a bug in a delivery
 * client must never crash the worker or cost the job its Result. So each call is guarded,
 * the other listeners still get the event, and numbering goes on.
 */
export class EventStream {
  private seq = 0;
  private readonly listeners: EventListener[] = [];
  /** Listeners already reported: a listener that fails on every event is reported once. */
  private readonly reported = new WeakSet<EventListener>();

  constructor(
    private readonly redactor: Redactor,
    private readonly report: ListenerErrorReporter = (line) => {
      process.stderr.write(`${line}\n`);
    },
  ) {}

  subscribe(listener: EventListener): void {
    this.listeners.push(listener);
  }

  emit(body: EventBody): WorkerEvent {
    this.seq += 1;
    const event = this.redactor.value({
      ...body,
      seq: this.seq,
      ts: new Date().toISOString(),
    }) as WorkerEvent;
    for (const listener of this.listeners) this.deliver(listener, event);
    return event;
  }

  private deliver(listener: EventListener, event: WorkerEvent): void {
    try {
      const returned: unknown = listener(event);
      // An async listener fits the type too; its rejection would otherwise be unhandled,
      // which ends a Node 20 process.
      if (isThenable(returned))
        returned.then(undefined, (error) => this.failed(listener, event, error));
    } catch (error) {
      this.failed(listener, event, error);
    }
  }

  private failed(listener: EventListener, event: WorkerEvent, error: unknown): void {
    if (this.reported.has(listener)) return;
    this.reported.add(listener);
    try {
      // Type and seq only: the event's text may be large or sensitive, and is not the problem.
      this.report(
        `viberator: an event listener failed on event ${event.seq} (${event.type}): ` +
          `${this.describe(error)}; it still gets further events, its further failures are not reported`,
      );
    } catch {
      // Reporting is best effort (a thrown value may even refuse to be printed): nothing may
      // escape emit().
    }
  }

  private describe(error: unknown): string {
    const name = error instanceof Error ? error.name : typeof error;
    const message = error instanceof Error ? error.message : String(error);
    const text = this.redactor.text(message.split('\n')[0] ?? '');
    return `${name}: ${text.length > ERROR_EXCERPT ? `${text.slice(0, ERROR_EXCERPT)}…` : text}`;
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}
