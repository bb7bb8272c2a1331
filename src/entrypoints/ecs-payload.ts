import { WorkerError } from '../errors.js';
import { jobIdOf, readPayloadText } from '../payload/load.js';
import { type ValidatedPayload, validatePayloadText } from '../payload/validate.js';

/**
 * The variables the ECS entry point reads (payload.md "How each entry point receives it").
 * An empty value counts as unset: task definitions and run-task overrides often carry a
 * variable with no value.
 */
export const ECS_PAYLOAD = 'VIBERATOR_PAYLOAD';
export const ECS_PAYLOAD_URI = 'VIBERATOR_PAYLOAD_URI';
export const ECS_JOB_ID = 'VIBERATOR_JOB_ID';

function variable(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value === '' ? undefined : value;
}

/** What loading the ECS payload gave: a job to run, or why it is refused and whom to name. */
export type EcsPayload =
  | { validated: ValidatedPayload }
  | { error: WorkerError /** The jobId for the refusal's Result. */; jobId: string };

/**
 * The jobId to name in a Result written before the payload is loaded (an invalid worker
 * environment): `VIBERATOR_JOB_ID` — set by whoever started the task, so more trustworthy
 * than the payload — else the jobId of an inline payload or of a payload file, else
 * `unknown`. No server is contacted just to name the job.
 */
export async function ecsJobIdBeforeLoading(env: NodeJS.ProcessEnv): Promise<string> {
  const named = variable(env, ECS_JOB_ID);
  if (named) return named;
  const inline = variable(env, ECS_PAYLOAD);
  if (inline) return jobIdOf(inline) ?? 'unknown';
  const uri = variable(env, ECS_PAYLOAD_URI);
  if (uri && !uri.startsWith('s3://')) {
    const text = await readPayloadText(uri).catch(() => undefined);
    if (text !== undefined) return jobIdOf(text) ?? 'unknown';
  }
  return 'unknown';
}

/**
 * Reads and validates the ECS task's payload: inline JSON in `VIBERATOR_PAYLOAD`, or the
 * object or file `VIBERATOR_PAYLOAD_URI` names (`s3://bucket/key` or a path) — exactly one of
 * them. `VIBERATOR_JOB_ID`, when set, must equal the payload's `jobId`: a task started for one
 * job must not run another. Every problem is `invalid_payload`; none throws. When `stop`
 * aborts (SIGTERM) while the payload is being fetched, the fetch is abandoned and the answer
 * is `cancelled`: no job was started, and no callback is known to report it to.
 */
export async function loadEcsPayload(
  env: NodeJS.ProcessEnv,
  stop?: AbortSignal,
): Promise<EcsPayload> {
  const inline = variable(env, ECS_PAYLOAD);
  const uri = variable(env, ECS_PAYLOAD_URI);
  const named = variable(env, ECS_JOB_ID);
  const refuse = (message: string, text?: string): EcsPayload => ({
    error: new WorkerError('invalid_payload', message),
    jobId: named ?? (text === undefined ? undefined : jobIdOf(text)) ?? 'unknown',
  });

  if (inline && uri) {
    return refuse(
      `invalid payload: set either ${ECS_PAYLOAD} (the payload as JSON) or ${ECS_PAYLOAD_URI} (s3://bucket/key or a path), not both`,
    );
  }
  if (!inline && !uri) {
    return refuse(
      `invalid payload: no payload: set ${ECS_PAYLOAD} (the payload as JSON) or ${ECS_PAYLOAD_URI} (s3://bucket/key or a path)`,
    );
  }
  if (uri === '-') {
    // readPayloadText would read stdin, which an ECS task does not have.
    return refuse(`invalid payload: ${ECS_PAYLOAD_URI} must be s3://bucket/key or a path, not -`);
  }

  let text: string;
  if (inline !== undefined) text = inline;
  else {
    try {
      text = await untilStopped(readPayloadText(uri as string), stop);
    } catch (error) {
      if (error instanceof WorkerError) return { error, jobId: named ?? 'unknown' };
      throw error;
    }
  }

  const found = jobIdOf(text);
  const mismatch =
    named !== undefined && found !== undefined && found !== named
      ? `jobId: the payload's jobId is ${JSON.stringify(found)} but ${ECS_JOB_ID} is ${JSON.stringify(named)}`
      : undefined;
  let validated: ValidatedPayload;
  try {
    validated = validatePayloadText(text, inline !== undefined ? ECS_PAYLOAD : (uri as string));
  } catch (error) {
    if (!(error instanceof WorkerError)) throw error;
    // One message with every problem, the mismatch among them.
    return refuse(mismatch ? `${error.message}; ${mismatch}` : error.message, text);
  }
  if (mismatch) return refuse(`invalid payload: ${mismatch}`, text);
  return { validated };
}

/** `work`, or a `cancelled` WorkerError as soon as `stop` aborts (its reason: the signal). */
function untilStopped<T>(work: Promise<T>, stop: AbortSignal | undefined): Promise<T> {
  if (!stop) return work;
  return new Promise<T>((resolve, reject) => {
    const onStop = () =>
      reject(
        new WorkerError(
          'cancelled',
          `the worker was asked to stop (${String(stop.reason ?? 'SIGTERM')}) while it read its payload; no job was started`,
          { step: 'received' },
        ),
      );
    if (stop.aborted) return onStop();
    stop.addEventListener('abort', onStop, { once: true });
    work.then(resolve, reject).finally(() => stop.removeEventListener('abort', onStop));
  });
}
