import type { Result } from '../core/result.js';
import type { StopRequest } from '../core/stop-request.js';
import { WorkerError } from '../errors.js';
import type { WorkerEvent } from '../events.js';
import type { Logger } from '../log.js';
import { writeS3Text } from '../payload/s3.js';
import { type Clanker, clankerSchema } from '../payload/schema.js';
import type { SecretProvider } from '../secrets/resolve.js';
import { EventDelivery } from './event-delivery.js';
import { fetchClanker, fetchPlatformSecrets } from './platform-api.js';
import { PlatformClient, PlatformError } from './platform-http.js';
import { deliverResult } from './result-delivery.js';

/** What the job takes from, and gives to, its platform. */
export interface PlatformSession {
  /** The `platform:` secret source. */
  secretProvider: SecretProvider;
  /** `GET /jobs/{id}/clanker`, validated like an inline clanker. */
  fetchClanker(clankerId: string): Promise<Clanker>;
  /** The EventStream listener that delivers events (heartbeat included). */
  onEvent(event: WorkerEvent): void;
  /**
   * The reporting step: `deliver` flushes the events and delivers the Result (retried up to
   * the deadline); `close` sends the last events, stops the delivery and, when the Result
   * could not be delivered, spools it with the undelivered events to the artifacts location
   * and the log.
   */
  report: { deliver(result: Result): Promise<boolean>; close(): Promise<void> };
  /** Whether the Result could not be delivered (the process must exit non-zero). */
  readonly undelivered: boolean;
}

export interface PlatformSessionOptions {
  callback: { url: string; token: string };
  jobId: string;
  logger: Logger;
  /** Aborted with `{ by: 'platform' }` when an events answer says `"cancel": true`. */
  controller: AbortController;
  heartbeatMs: number;
  resultDeadlineMs: number;
  artifactsS3Uri?: string;
}

/**
 * After SIGTERM the worker has until its SIGKILL (ECS: the container's `stopTimeout`, 30 s by
 * default): the last events and the Result are then tried for these bounded times (ms), so
 * that what the platform did not take is spooled to the log before the process is killed.
 */
export const STOPPED_EVENTS_FLUSH_MS = 5_000;
export const STOPPED_RESULT_DEADLINE_MS = 15_000;

/** Whether a signal to the worker (not the platform) stopped the job. */
function stoppedBySignal(signal: AbortSignal): boolean {
  return signal.aborted && (signal.reason as StopRequest | undefined)?.by === 'signal';
}

/**
 * Connects one job to its platform (platform-api.md): one client with the callback's token,
 * event delivery with heartbeat and cancellation, clanker and secret look-ups, the Result.
 * All three entry points use it the same way through `executeJob`.
 */
export function connectPlatform(opts: PlatformSessionOptions): PlatformSession {
  const client = new PlatformClient({ baseUrl: opts.callback.url, token: opts.callback.token });
  const { logger, jobId } = opts;
  const delivery = new EventDelivery({
    client,
    jobId,
    heartbeatMs: opts.heartbeatMs,
    log: (level, message, meta) => logger.log(level, message, meta),
    onCancel: () => {
      logger.warn('the platform asked to cancel the job: stopping it');
      opts.controller.abort({ by: 'platform' } satisfies StopRequest);
    },
  });
  let undelivered: { result: Result; why: string } | undefined;

  const session: PlatformSession = {
    get undelivered() {
      return undelivered !== undefined;
    },
    onEvent: delivery.onEvent,

    secretProvider: {
      scheme: 'platform',
      async resolve(keys) {
        try {
          return await fetchPlatformSecrets(client, jobId, keys, {
            signal: opts.controller.signal,
          });
        } catch (error) {
          // A refusal (4xx) will not change by retrying: the secrets are missing for this job.
          const refused = error instanceof PlatformError && !error.retryable;
          throw new WorkerError(
            refused ? 'missing_secret' : 'config_unavailable',
            `platform secrets (${keys.join(', ')}) could not be fetched: ${describe(error)}`,
            { retryable: !refused, step: 'fetching_credentials', cause: error },
          );
        }
      },
    },

    async fetchClanker(clankerId) {
      let raw: unknown;
      try {
        raw = await fetchClanker(client, jobId, { signal: opts.controller.signal });
      } catch (error) {
        throw new WorkerError(
          'config_unavailable',
          `clanker ${clankerId} could not be fetched from the platform: ${describe(error)}`,
          { retryable: true, step: 'resolving_config', cause: error },
        );
      }
      const parsed = clankerSchema.safeParse(raw);
      if (!parsed.success) {
        const problems = parsed.error.issues.map(
          (issue) => `clanker.${issue.path.join('.')}: ${issue.message}`,
        );
        throw new WorkerError(
          'config_unavailable',
          `the platform's clanker ${clankerId} is not valid: ${problems.join('; ')}`,
          { retryable: true, step: 'resolving_config' },
        );
      }
      return parsed.data;
    },

    report: {
      async deliver(result) {
        // The job's events first, in order (a failing batch is given up after a minute), then
        // the Result with its own deadline.
        const signalled = stoppedBySignal(opts.controller.signal);
        await delivery.flush(
          Math.min(signalled ? STOPPED_EVENTS_FLUSH_MS : 60_000, opts.resultDeadlineMs),
        );
        const outcome = await deliverResult(client, jobId, result, {
          deadlineMs: signalled
            ? Math.min(STOPPED_RESULT_DEADLINE_MS, opts.resultDeadlineMs)
            : opts.resultDeadlineMs,
          onAttemptFailed: (error, attempt) =>
            logger.warn(`the Result was not accepted (attempt ${attempt}): ${describe(error)}`),
        });
        if (outcome.delivered) return true;
        undelivered = { result, why: describe(outcome.error) };
        return false;
      },
      async close() {
        const lastEventsMs = stoppedBySignal(opts.controller.signal)
          ? STOPPED_EVENTS_FLUSH_MS
          : 10_000;
        await delivery.flush(undelivered ? 1000 : Math.min(lastEventsMs, opts.resultDeadlineMs));
        await delivery.stop();
        if (undelivered)
          await spool(undelivered.result, delivery.undeliveredEvents(), undelivered.why);
      },
    },
  };

  async function spool(result: Result, events: WorkerEvent[], why: string): Promise<void> {
    const body = JSON.stringify({ result, undeliveredEvents: events });
    logger.error(`the Result could not be delivered to the platform (${why}); spooled`, {
      spooled: body,
    });
    if (!opts.artifactsS3Uri) return;
    try {
      const uri = await writeS3Text(opts.artifactsS3Uri, 'undelivered-result.json', body);
      logger.error(`the undelivered Result and events were written to ${uri}`);
    } catch (error) {
      logger.error(`the undelivered Result could not be written to ${opts.artifactsS3Uri}`, {
        error: (error as Error).message,
      });
    }
  }

  return session;
}

function describe(error: unknown): string {
  if (error instanceof PlatformError) return error.message;
  return error instanceof Error ? error.message : String(error);
}
