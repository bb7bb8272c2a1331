/**
 * Which metered model calls go upstream now and which wait (the budget under concurrency,
 * runtime.md "Budget"). The gateway hands each model call to {@link ModelCallQueue.enter};
 * the call starts when the rule lets it, waits otherwise (held, its body unread), and is
 * refused once the budget is used up. A call in flight counts until its answer has been
 * metered, so that the rule always decides on the usage of every answer that has ended.
 */

/** One model call as the queue sees it. */
export interface QueuedCall {
  /** Sends it upstream; `settled` must be called once its answer has been metered (or failed). */
  start(settled: () => void): void;
  /** Answers it with this refusal (the budget's 429). */
  refuse(message: string): void;
  /** Ends it without an answer: the gateway is closing. */
  drop(): void;
}

export interface AdmissionRule {
  /** A message once every further call is refused (the budget is used up). */
  refusal(): string | undefined;
  /** Whether one more call may start with `inFlight` already in flight. */
  mayStart(inFlight: number): boolean;
}

export class ModelCallQueue {
  private inFlight = 0;
  /** Calls waiting, oldest first (a Set keeps insertion order and deletes in O(1)). */
  private readonly waiting = new Set<QueuedCall>();
  private closed = false;
  private idle: Array<() => void> = [];

  constructor(private readonly rule: AdmissionRule) {}

  /**
   * Starts, holds or refuses `call`. Returns the function that takes a waiting call out of
   * the queue (its client went away); it does nothing once the call has left the queue.
   */
  enter(call: QueuedCall): () => void {
    if (this.closed) {
      call.drop();
      return () => {};
    }
    this.waiting.add(call);
    this.admit();
    return () => {
      this.waiting.delete(call);
    };
  }

  /** Calls still waiting. */
  get held(): number {
    return this.waiting.size;
  }

  /** Ends every waiting call and starts no more; resolves once no call is in flight. */
  close(): Promise<void> {
    this.closed = true;
    for (const call of this.waiting) call.drop();
    this.waiting.clear();
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  /** Oldest first: refuses all once the budget is used up, starts as many as the rule lets. */
  private admit(): void {
    for (const call of this.waiting) {
      const refused = this.rule.refusal();
      if (refused === undefined && !this.rule.mayStart(this.inFlight)) return;
      this.waiting.delete(call);
      if (refused !== undefined) {
        call.refuse(refused);
        continue;
      }
      this.inFlight++;
      let settled = false;
      call.start(() => {
        if (settled) return;
        settled = true;
        this.inFlight--;
        if (this.closed) {
          if (this.inFlight === 0) for (const resolve of this.idle.splice(0)) resolve();
          return;
        }
        this.admit();
      });
    }
  }
}
