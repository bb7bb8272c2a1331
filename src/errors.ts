import type { Step } from './events.js';

/** The failure codes of runtime.md. */
export type FailureCode =
  | 'invalid_payload'
  | 'config_unavailable'
  | 'missing_secret'
  | 'agent_unavailable'
  | 'clone_failed'
  | 'agent_failed'
  | 'agent_timeout'
  | 'budget_exceeded'
  | 'no_changes'
  | 'push_failed'
  | 'pr_failed'
  | 'cancelled'
  | 'internal_error';

/** The `failure` object of a Result. */
export interface Failure {
  code: FailureCode;
  message: string;
  retryable: boolean;
  step: Step;
}

/** Step and default retryability of each code (runtime.md's table). */
const DEFAULTS: Record<FailureCode, { step: Step; retryable: boolean }> = {
  invalid_payload: { step: 'received', retryable: false },
  config_unavailable: { step: 'resolving_config', retryable: true },
  missing_secret: { step: 'fetching_credentials', retryable: false },
  agent_unavailable: { step: 'initialising_agent', retryable: false },
  clone_failed: { step: 'cloning', retryable: true },
  agent_failed: { step: 'running_agent', retryable: true },
  agent_timeout: { step: 'running_agent', retryable: true },
  budget_exceeded: { step: 'running_agent', retryable: false },
  no_changes: { step: 'committing', retryable: false },
  push_failed: { step: 'pushing', retryable: true },
  pr_failed: { step: 'opening_pr', retryable: true },
  cancelled: { step: 'received', retryable: true },
  internal_error: { step: 'received', retryable: true },
};

/**
 * The one error type of the worker: a code the platform can act on, a message a person can
 * act on, whether a retry can help, and the step it happened in. `cause` is kept for logs
 * only and is redacted before it leaves the process.
 */
export class WorkerError extends Error {
  readonly code: FailureCode;
  readonly retryable: boolean;
  readonly step: Step;
  /** Whether the step was named where the error was made (else the step it happens in). */
  readonly stepGiven: boolean;

  constructor(
    code: FailureCode,
    message: string,
    opts: { retryable?: boolean; step?: Step; cause?: unknown } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'WorkerError';
    this.code = code;
    this.retryable = opts.retryable ?? DEFAULTS[code].retryable;
    this.step = opts.step ?? DEFAULTS[code].step;
    this.stepGiven = opts.step !== undefined;
  }

  toFailure(): Failure {
    return { code: this.code, message: this.message, retryable: this.retryable, step: this.step };
  }
}

/** Any thrown value as a Failure; unknown errors become `internal_error` in the given step. */
export function toFailure(error: unknown, step: Step): Failure {
  if (error instanceof WorkerError) {
    // `cancelled` and `internal_error` happen in any step: the one that was running.
    const anyStep = error.code === 'cancelled' || error.code === 'internal_error';
    return anyStep && !error.stepGiven ? { ...error.toFailure(), step } : error.toFailure();
  }
  const message = error instanceof Error ? error.message : String(error);
  return { code: 'internal_error', message: `unexpected error: ${message}`, retryable: true, step };
}
