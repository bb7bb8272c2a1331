import type { WorkerEnv } from '../config/worker-env.js';
import { EventStream } from '../core/event-stream.js';
import type { Result } from '../core/result.js';
import { runJob } from '../core/worker.js';
import { createProgressView } from '../local/progress-view.js';
import { createLogger } from '../log.js';
import type { ValidatedPayload } from '../payload/validate.js';
import { Redactor } from '../secrets/redactor.js';
import { envProvider } from '../secrets/resolve.js';

/**
 * Wires one validated job to its surroundings — redactor, logger, event listeners, secret
 * providers, SIGTERM — and runs the core. Every entry point ends here.
 */
export async function executeJob(
  validated: ValidatedPayload,
  opts: {
    env: WorkerEnv;
    stderr: NodeJS.WriteStream;
    keepWorkspace?: boolean;
    agentTimeLimitMs?: number;
  },
): Promise<Result> {
  const redactor = new Redactor();
  // The callback token is a secret too: it must never reach a log line or an event.
  redactor.add(validated.payload.callback?.token);
  const logger = createLogger({
    level: opts.env.logLevel,
    format: opts.env.logFormat,
    redactor,
    stream: opts.stderr,
  });
  const events = new EventStream(redactor);
  const view = createProgressView(opts.stderr);
  events.subscribe(view.onEvent);

  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    logger.warn(`received ${signal}: stopping the job`, { jobId: validated.payload.jobId });
    controller.abort();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  try {
    return await runJob({
      validated,
      env: opts.env,
      redactor,
      events,
      logger,
      secretProviders: [envProvider(opts.env.host)],
      signal: controller.signal,
      keepWorkspace: opts.keepWorkspace,
      agentTimeLimitMs: opts.agentTimeLimitMs,
    });
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    view.close();
    await new Promise<void>((resolve) => {
      logger.on('finish', resolve);
      logger.end();
    });
  }
}
