import { JobArtifacts } from '../artifacts/job-artifacts.js';
import type { WorkerEnv } from '../config/worker-env.js';
import { EventStream } from '../core/event-stream.js';
import type { Result } from '../core/result.js';
import type { StopRequest } from '../core/stop-request.js';
import { runJob } from '../core/worker.js';
import { createProgressView } from '../local/progress-view.js';
import { createLogger } from '../log.js';
import type { ValidatedPayload } from '../payload/validate.js';
import { connectPlatform } from '../platform/platform-session.js';
import { Redactor } from '../secrets/redactor.js';
import { secretSources } from '../secrets/secret-sources.js';

/** How a job ended, for the entry point's exit. */
export interface JobRun {
  result: Result;
  /** False when the job has a platform and the Result could not be delivered (spooled). */
  delivered: boolean;
}

/**
 * Wires one validated job to its surroundings — redactor, logger, event listeners, the
 * platform (events, clanker, secrets, Result), secret sources, SIGTERM — and runs the core.
 * Every entry point ends here.
 */
export async function executeJob(
  validated: ValidatedPayload,
  opts: {
    env: WorkerEnv;
    stderr: NodeJS.WriteStream;
    keepWorkspace?: boolean;
    /** When the agent must be stopped at the latest, epoch ms (Lambda); see JobOptions. */
    agentDeadline?: number;
    /**
     * A signal the process received before the job started (while its payload was read): the
     * job stops at once as `cancelled`, reported like any other stop.
     */
    stoppedBefore?: NodeJS.Signals;
  },
): Promise<JobRun> {
  const redactor = new Redactor();
  // The callback token is a secret too: it must never reach a log line or an event.
  redactor.add(validated.payload.callback?.token, 'callback.token');
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
  const { callback } = validated.payload;
  const platform = callback
    ? connectPlatform({
        callback,
        jobId: validated.payload.jobId,
        logger,
        controller,
        heartbeatMs: opts.env.heartbeatMs,
        resultDeadlineMs: opts.env.resultDeadlineMs,
        artifactsS3Uri: validated.payload.artifacts?.s3Uri,
      })
    : undefined;
  if (platform) events.subscribe(platform.onEvent);
  const s3Uri = validated.payload.artifacts?.s3Uri;
  const artifacts = s3Uri
    ? new JobArtifacts(s3Uri, (text) => redactor.text(text), logger)
    : undefined;
  if (artifacts) events.subscribe(artifacts.onEvent);
  const onSignal = (signal: NodeJS.Signals) => {
    logger.warn(`received ${signal}: stopping the job`, { jobId: validated.payload.jobId });
    controller.abort({ by: 'signal', signal } satisfies StopRequest);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  if (opts.stoppedBefore) onSignal(opts.stoppedBefore);
  try {
    const result = await runJob({
      validated,
      env: opts.env,
      redactor,
      events,
      logger,
      secretProviders: secretSources({
        host: opts.env.host,
        signal: controller.signal,
        platform: platform?.secretProvider,
      }),
      fetchClanker: platform ? (id) => platform.fetchClanker(id) : undefined,
      report: platform?.report,
      artifacts,
      signal: controller.signal,
      keepWorkspace: opts.keepWorkspace,
      agentDeadline: opts.agentDeadline,
    });
    return { result, delivered: !platform?.undelivered };
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
