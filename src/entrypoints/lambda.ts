import { readWorkerEnv, type WorkerEnv } from '../config/worker-env.js';
import { type Result, refusedResult } from '../core/result.js';
import { WorkerError } from '../errors.js';
import { readPayloadText } from '../payload/load.js';
import {
  type ValidatedPayload,
  validatePayload,
  validatePayloadText,
} from '../payload/validate.js';
import { executeJob } from './execute-job.js';

/**
 * The AWS Lambda entry point (runtime.md, "Entry points"): the `handler` export of the
 * package's `./lambda` subpath. Everything here runs per invocation; what a warm container
 * reuses lives at module level elsewhere (the S3 and SSM clients, loaded on first use).
 */

/** The part of Lambda's context object the handler reads. */
export interface LambdaContext {
  getRemainingTimeInMillis(): number;
  awsRequestId?: string;
}

/** Seconds kept back from the invocation's remaining time for stopping the agent and reporting. */
export const DEFAULT_SAFETY_MARGIN_S = 60;

/**
 * The margin never takes more than this share of the time an invocation starts with, so a
 * function configured with a short timeout still gives its agent most of it.
 */
const MARGIN_SHARE = 0.25;

/**
 * The safety margin of one invocation, ms: `VIBERATOR_LAMBDA_SAFETY_MARGIN` seconds (default
 * 60), at most a quarter of the remaining time at the start.
 */
export function safetyMarginMs(env: NodeJS.ProcessEnv, remainingMs: number): number {
  const raw = env.VIBERATOR_LAMBDA_SAFETY_MARGIN;
  const seconds = raw === undefined || raw === '' ? DEFAULT_SAFETY_MARGIN_S : Number(raw);
  if (!Number.isFinite(seconds) || seconds < 0) {
    throw new WorkerError(
      'internal_error',
      'invalid environment: VIBERATOR_LAMBDA_SAFETY_MARGIN must be a number of seconds, 0 or more',
      { retryable: false },
    );
  }
  return Math.min(seconds * 1000, Math.max(0, remainingMs) * MARGIN_SHARE);
}

/** The jobId of an event that may not validate, so that its Result can still name the job. */
function jobIdOf(value: unknown): string | undefined {
  let candidate = value;
  if (typeof value === 'string') {
    try {
      candidate = JSON.parse(value);
    } catch {
      return undefined;
    }
  }
  const jobId = (candidate as { jobId?: unknown } | null)?.jobId;
  return typeof jobId === 'string' && jobId.length > 0 && jobId.length <= 128 ? jobId : undefined;
}

/**
 * The payload of an event (payload.md, "How each entry point receives it"): the event itself,
 * its JSON text, or `{ "payloadUri": "s3://bucket/key" }` read from S3. Throws
 * `invalid_payload` listing every problem; `named` learns the jobId as soon as one is seen,
 * so that a refused job's Result still names it.
 */
async function payloadOf(event: unknown, named: { jobId?: string }): Promise<ValidatedPayload> {
  named.jobId = jobIdOf(event);
  if (typeof event === 'string') return validatePayloadText(event, 'the event');
  if (typeof event === 'object' && event !== null && 'payloadUri' in event) {
    const uri = (event as { payloadUri: unknown }).payloadUri;
    // Only S3: a path would read the function's own files.
    if (typeof uri !== 'string' || !/^s3:\/\/[^/]+\/.+/.test(uri)) {
      throw new WorkerError(
        'invalid_payload',
        'invalid payload: payloadUri: must be an s3://bucket/key URI',
      );
    }
    const text = await readPayloadText(uri);
    named.jobId = jobIdOf(text) ?? named.jobId;
    return validatePayloadText(text, uri);
  }
  return validatePayload(event);
}

/** The Result of a job refused before it started: nothing was created, no callback made. */
function refused(error: WorkerError, jobId: string): Result {
  process.stderr.write(`${JSON.stringify({ level: 'error', message: error.message, jobId })}\n`);
  return refusedResult(jobId, error.toFailure());
}

let agentUserIgnoredNoted = false;

/**
 * The worker's settings for one invocation. Lambda runs functions as an unprivileged user
 * that cannot switch to another one (no root, no sudo): the agent shares the worker's user
 * (same-user mode, logged once per container by the core). A `VIBERATOR_AGENT_USER` left in
 * the image's environment is ignored there rather than failing every job. A root worker (a
 * local Lambda emulator run as root) keeps the usual switch.
 */
function invocationEnv(): WorkerEnv {
  const env = readWorkerEnv(process.env, false);
  if (process.getuid?.() === 0 || env.agentUser === undefined) return env;
  if (!agentUserIgnoredNoted) {
    agentUserIgnoredNoted = true;
    process.stderr.write(
      `${JSON.stringify({
        level: 'warn',
        message: `VIBERATOR_AGENT_USER=${env.agentUser} is ignored in Lambda: the function's user cannot switch to another user`,
      })}\n`,
    );
  }
  return { ...env, agentUser: undefined };
}

/**
 * Runs one job per invocation and returns its Result — also for an invalid payload or an
 * invalid environment (`failure.code` says which), so the platform reads every outcome the
 * same way and an asynchronous invocation is not retried by Lambda for a payload that can
 * never succeed. Lambda's "function error" is left to what the worker cannot turn into a
 * Result: a bug (an exception that is not a WorkerError), the runtime stopping the function
 * at its deadline, running out of memory.
 */
export async function handler(event: unknown, context: LambdaContext): Promise<Result> {
  const remainingMs = context.getRemainingTimeInMillis();
  const deadline = Date.now() + remainingMs;
  let env: WorkerEnv;
  let marginMs: number;
  try {
    env = invocationEnv();
    marginMs = safetyMarginMs(process.env, remainingMs);
  } catch (error) {
    if (error instanceof WorkerError) return refused(error, jobIdOf(event) ?? 'unknown');
    throw error;
  }
  let validated: ValidatedPayload;
  const named: { jobId?: string } = {};
  try {
    validated = await payloadOf(event, named);
  } catch (error) {
    if (error instanceof WorkerError) return refused(error, named.jobId ?? 'unknown');
    throw error;
  }
  const { result, delivered } = await executeJob(validated, {
    env,
    stderr: process.stderr,
    agentDeadline: deadline - marginMs,
  });
  if (!delivered) {
    process.stderr.write(
      `${JSON.stringify({
        level: 'error',
        message: 'the platform did not accept the Result; it is returned here and was spooled',
        jobId: result.jobId,
        requestId: context.awsRequestId,
      })}\n`,
    );
  }
  return result;
}
