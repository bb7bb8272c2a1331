import type { z } from 'zod';
import { WorkerError } from '../errors.js';
import { unknownPlaceholders } from '../git/branch-name.js';
import { parseRepositoryUrl, type RepositoryLocation } from './repository-url.js';
import { type Payload, payloadSchema } from './schema.js';

/** A payload that passed every check, with what the checks derived from it. */
export interface ValidatedPayload {
  payload: Payload;
  repository: RepositoryLocation;
  /** No callback: progress and result stay on this machine. */
  localMode: boolean;
}

/** JSON path of a problem, e.g. `secrets[0].ref`; `(root)` for the whole document. */
function formatPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(root)';
  return path
    .map((part, index) =>
      typeof part === 'number' ? `[${part}]` : `${index === 0 ? '' : '.'}${String(part)}`,
    )
    .join('');
}

function describe(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_type' && /received undefined/.test(issue.message))
    return 'is required';
  return issue.message;
}

/**
 * Validates a parsed payload, listing every problem with its JSON path in one
 * `invalid_payload` error. Nothing is created and nothing is called before this passes.
 */
export function validatePayload(input: unknown): ValidatedPayload {
  const parsed = payloadSchema.safeParse(input);
  const problems: string[] = parsed.success
    ? []
    : parsed.error.issues.map((issue) => `${formatPath(issue.path)}: ${describe(issue)}`);

  const raw = (typeof input === 'object' && input !== null ? input : {}) as Record<string, unknown>;
  const localMode = raw.callback === undefined;

  let repository: RepositoryLocation | undefined;
  const url = (raw.repository as { url?: unknown } | undefined)?.url;
  if (typeof url === 'string' && url.length > 0) {
    const result = parseRepositoryUrl(url, localMode);
    if ('problem' in result) problems.push(`repository.url: ${result.problem}`);
    else repository = result.location;
  }

  const apiUrl = (raw.repository as { apiUrl?: unknown } | undefined)?.apiUrl;
  if (typeof apiUrl === 'string' && apiUrl.length > 0) {
    const result = parseRepositoryUrl(apiUrl, false);
    if ('problem' in result) problems.push(`repository.apiUrl: ${result.problem}`);
  }

  problems.push(...crossFieldProblems(raw));

  const template = (raw.project as { branchNameTemplate?: unknown } | undefined)
    ?.branchNameTemplate;
  if (typeof template === 'string') {
    const unknown = unknownPlaceholders(template);
    if (unknown.length > 0) {
      problems.push(
        `project.branchNameTemplate: unknown placeholder ${unknown.map((name) => `{{ ${name} }}`).join(', ')} (known: ticket, original_ticket, clanker)`,
      );
    }
  }

  if (problems.length > 0 || !parsed.success || !repository) {
    throw new WorkerError('invalid_payload', `invalid payload: ${problems.join('; ')}`);
  }
  return { payload: parsed.data, repository, localMode };
}

/**
 * Rules that tie fields together. They run on the raw input, beside the schema, so that a
 * payload with other problems still gets these reported too.
 */
function crossFieldProblems(raw: Record<string, unknown>): string[] {
  const problems: string[] = [];
  const template = typeof raw.template === 'string' ? raw.template : '';
  if (template.startsWith('ticket_') && raw.ticket === undefined) {
    problems.push(`ticket: is required for template ${template}`);
  }
  if (template === 'claw_scheduled_task' && raw.claw === undefined) {
    problems.push('claw: is required for template claw_scheduled_task');
  }
  if (raw.clanker === undefined && raw.clankerId === undefined) {
    problems.push('clanker: give either clanker or clankerId');
  }
  const seen = new Set<unknown>();
  (Array.isArray(raw.secrets) ? raw.secrets : []).forEach((secret: unknown, index) => {
    const { name, ref } = (secret ?? {}) as { name?: unknown; ref?: unknown };
    const workerVariable = workerVariableRef(name, ref);
    if (workerVariable) problems.push(`secrets[${index}].ref: ${workerVariable}`);
    if (typeof name !== 'string') return;
    if (seen.has(name)) problems.push(`secrets[${index}].name: duplicate secret ${name}`);
    seen.add(name);
  });
  return problems;
}

/** Variables of the worker's own configuration and credentials (payload.md, Secrets). */
const WORKER_VARIABLE = /^(VIBERATOR_|AWS_)/;

/**
 * A problem text when a secret's `env:` ref (given, or implied by an absent ref) names a
 * variable of the worker itself: a payload must not read the worker's AWS credentials or
 * settings out of its environment and hand them to the agent.
 */
function workerVariableRef(name: unknown, ref: unknown): string | undefined {
  const variable = envVariableOf(name, ref);
  if (!variable || !WORKER_VARIABLE.test(variable)) return undefined;
  const implied = ref === undefined ? ' (implied: ref is absent)' : '';
  return (
    `env:${variable}${implied} names the worker's own configuration or credentials ` +
    '(VIBERATOR_*, AWS_*); use a platform: or ssm: ref, or another variable'
  );
}

/** The variable an `env:` ref reads; an absent ref means `env:<name>` (payload.md). */
function envVariableOf(name: unknown, ref: unknown): string | undefined {
  if (ref === undefined) return typeof name === 'string' ? name : undefined;
  return typeof ref === 'string' && ref.startsWith('env:') ? ref.slice('env:'.length) : undefined;
}

/** Parses JSON text, then validates it. */
export function validatePayloadText(text: string, source: string): ValidatedPayload {
  let input: unknown;
  try {
    input = JSON.parse(text);
  } catch (error) {
    throw new WorkerError(
      'invalid_payload',
      `invalid payload: ${source} is not valid JSON (${(error as Error).message})`,
    );
  }
  return validatePayload(input);
}
