import { WorkerError } from '../errors.js';
import { ScmHttpError, ScmRequestStopped, ScmUnreachable } from './http-json.js';
import type { ChangeRequestSpec, ScmProvider } from './provider.js';

/** What a failed change-request call means for the job: `pr_failed` or `cancelled`. */
export function changeRequestError(
  error: unknown,
  provider: ScmProvider,
  spec: ChangeRequestSpec,
  scmMessage: (body: unknown) => string,
  where: string,
): WorkerError {
  const noun = provider.requestNoun;
  if (spec.signal?.aborted || (error instanceof ScmRequestStopped && error.kind === 'cancelled')) {
    return new WorkerError(
      'cancelled',
      `the worker was asked to stop (SIGTERM) while opening the ${noun}; the branch ${spec.head} was pushed`,
      { step: 'opening_pr', cause: error },
    );
  }
  if (error instanceof ScmRequestStopped) {
    return new WorkerError(
      'pr_failed',
      `${noun} failed: the ${provider.displayName} API at ${spec.apiUrl} did not answer within ${Math.round(spec.timeoutMs / 100) / 10} s (${error.target.method} ${error.target.path}; VIBERATOR_HTTP_TIMEOUT sets the limit)`,
      { retryable: true, cause: error },
    );
  }
  if (error instanceof ScmUnreachable) {
    return new WorkerError(
      'pr_failed',
      `${noun} failed: could not reach ${provider.displayName} at ${spec.apiUrl}: ${error.message}${attemptsText(error.attempts)}`,
      { retryable: true, cause: error },
    );
  }
  if (error instanceof ScmHttpError) {
    const status = error.status;
    const hint =
      status === 401
        ? ` (check the ${provider.tokenSecret} secret)`
        : status === 403 || status === 404
          ? ` (check that the ${provider.tokenSecret} secret's token may open ${noun}s on ${where}: ${provider.tokenScopes})`
          : '';
    return new WorkerError(
      'pr_failed',
      `${noun} failed: ${provider.displayName} answered ${status}: ${scmMessage(error.body)}${hint}${attemptsText(error.attempts)}`,
      { retryable: status >= 500 || status === 429, cause: error },
    );
  }
  if (error instanceof WorkerError) return error;
  return new WorkerError(
    'pr_failed',
    `${noun} failed: ${(error as Error)?.message ?? String(error)}`,
    {
      retryable: true,
      cause: error,
    },
  );
}

function attemptsText(attempts: number): string {
  return attempts > 1 ? ` (after ${attempts} attempts)` : '';
}

/** The words of an SCM's error body: `message` (string, list or field map) or `error`. */
export function scmMessageOf(body: unknown): string {
  if (typeof body === 'string') return body.trim().slice(0, 500) || 'no message';
  if (body && typeof body === 'object') {
    const { message, error } = body as { message?: unknown; error?: unknown };
    const text = flatten(message) || flatten(error);
    if (text) return text;
  }
  return 'no message';
}

function flatten(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.map(flatten).filter(Boolean).join('; ');
  if (value && typeof value === 'object') {
    return Object.entries(value)
      .map(([field, detail]) => `${field} ${flatten(detail)}`.trim())
      .join('; ');
  }
  return '';
}
