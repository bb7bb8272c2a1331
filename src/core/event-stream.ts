import type { EventBody, WorkerEvent } from '../events.js';
import type { Redactor } from '../secrets/redactor.js';

/** Receives every event, already numbered and redacted. */
export type EventListener = (event: WorkerEvent) => void;

/**
 * Numbers events from 1 with no gaps, stamps them and redacts every string in them before
 * any listener (progress view, callback client) sees them.
 */
export class EventStream {
  private seq = 0;
  private readonly listeners: EventListener[] = [];

  constructor(private readonly redactor: Redactor) {}

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
    for (const listener of this.listeners) listener(event);
    return event;
  }
}
