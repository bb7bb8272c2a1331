/**
 * The published contract of the platform callback API (platform-api.md) as zod schemas: the
 * Event, the Result and the request and answer bodies of the four calls. The OpenAPI document
 * and the payload's JSON Schema in docs/contract/ are generated from these (and from the
 * payload's own schema, src/payload/schema.ts) by `npm run contract`.
 *
 * The worker's TypeScript types (src/events.ts, src/core/result.ts, src/errors.ts) stay the
 * source its code is written against; the type-level checks at the end of this file fail the
 * build when they and these schemas disagree.
 */
import { z } from 'zod';
import { AGENT_SLUGS } from '../agents/types.js';
import type { Result, Usage } from '../core/result.js';
import type { Failure, FailureCode } from '../errors.js';
import { STEPS, type Step, type ToolKind, type WorkerEvent } from '../events.js';
import { clankerSchema } from '../payload/schema.js';
import { TEMPLATE_PHASES } from '../payload/templates.js';
import type { DropNotice, DroppedSpan } from '../platform/event-delivery.js';

/** The failure codes of runtime.md (the `FailureCode` of src/errors.ts, checked below). */
export const FAILURE_CODES = [
  'invalid_payload',
  'config_unavailable',
  'missing_secret',
  'agent_unavailable',
  'clone_failed',
  'agent_failed',
  'agent_timeout',
  'budget_exceeded',
  'no_changes',
  'push_failed',
  'pr_failed',
  'cancelled',
  'internal_error',
] as const;

/** The kinds of an `agent.tool_call` event. */
export const TOOL_KINDS = ['read', 'edit', 'command', 'search', 'web', 'other'] as const;

/** The phases of payload.md, in template order. */
export const PHASES = [...new Set(Object.values(TEMPLATE_PHASES))] as [
  (typeof TEMPLATE_PHASES)[keyof typeof TEMPLATE_PHASES],
  ...(typeof TEMPLATE_PHASES)[keyof typeof TEMPLATE_PHASES][],
];

const count = z.number().int().nonnegative();
const timestamp = z.iso.datetime().describe('ISO 8601 timestamp in UTC (ending in Z).');

export const stepSchema = z
  .enum(STEPS)
  .describe('A lifecycle step, in the order the worker runs them.');

export const usageSchema = z
  .strictObject({
    inputTokens: count.optional(),
    outputTokens: count.optional(),
    cacheReadTokens: count.optional(),
    cacheWriteTokens: count.optional(),
    costUsd: z.number().nonnegative().optional(),
  })
  .describe('Token usage and cost; each field optional.');

/** Every event carries these: `seq` from 1, rising by 1 across the whole job; `ts`. */
const numbered = {
  seq: z.number().int().positive().describe('From 1, rising by 1 with no gaps across the job.'),
  ts: timestamp,
};

export const droppedSpanSchema = z
  .strictObject({
    fromSeq: z.number().int().positive(),
    toSeq: z.number().int().positive(),
    count: count.describe('Events removed (dropped, or merged into another `agent.usage`).'),
    types: z.record(z.string(), count).describe('Removed events by type.'),
  })
  .describe(
    'On a drop notice: every seq in fromSeq..toSeq the platform does not receive was dropped on purpose.',
  );

export const statusEventSchema = z.strictObject({
  ...numbered,
  type: z.literal('status'),
  step: stepSchema,
  state: z.enum(['started', 'completed', 'failed']),
});

export const messageEventSchema = z.strictObject({
  ...numbered,
  type: z.literal('agent.message'),
  role: z.enum(['assistant', 'system']),
  text: z.string(),
});

export const thinkingEventSchema = z.strictObject({
  ...numbered,
  type: z.literal('agent.thinking'),
  text: z.string(),
});

export const toolCallEventSchema = z.strictObject({
  ...numbered,
  type: z.literal('agent.tool_call'),
  id: z.string(),
  name: z.string(),
  kind: z.enum(TOOL_KINDS),
  input: z.unknown().describe('The tool input (JSON), truncated to 4 KiB.'),
});

export const toolResultEventSchema = z.strictObject({
  ...numbered,
  type: z.literal('agent.tool_result'),
  id: z.string(),
  ok: z.boolean(),
  output: z.string().describe('Truncated to 4 KiB.'),
});

export const usageEventSchema = z.strictObject({
  ...numbered,
  type: z.literal('agent.usage'),
  ...usageSchema.shape,
});

export const logEventSchema = z.strictObject({
  ...numbered,
  type: z.literal('log'),
  level: z.enum(['error', 'warn', 'info', 'debug']),
  message: z.string(),
  dropped: droppedSpanSchema
    .optional()
    .describe('Only on a drop notice (docs/decisions.md, "Event delivery").'),
});

export const eventSchema = z
  .discriminatedUnion('type', [
    statusEventSchema,
    messageEventSchema,
    thinkingEventSchema,
    toolCallEventSchema,
    toolResultEventSchema,
    usageEventSchema,
    logEventSchema,
  ])
  .describe('One event of the job; every string has secret values replaced by `[REDACTED]`.');

export const failureSchema = z.strictObject({
  code: z.enum(FAILURE_CODES),
  message: z.string(),
  retryable: z.boolean(),
  step: stepSchema,
});

export const resultSchema = z
  .strictObject({
    jobId: z.string(),
    status: z.enum(['completed', 'failed']),
    phase: z.enum(PHASES).optional(),
    agent: z.enum(AGENT_SLUGS).optional(),
    branch: z.string().optional(),
    commitSha: z.string().optional(),
    prUrl: z.string().optional(),
    prNumber: z.number().int().positive().optional(),
    document: z.string().optional().describe("research, planning, claw: the agent's final answer"),
    changedFiles: count.optional(),
    usage: usageSchema.optional(),
    artifacts: z.array(z.string()).optional(),
    startedAt: timestamp,
    finishedAt: timestamp,
    durationMs: count,
    agentDurationMs: count.optional(),
    failure: failureSchema.optional(),
  })
  .describe('The outcome of the job, posted once at the end.');

/** `GET /jobs/{jobId}/clanker` answers the clanker object, as in the payload. */
export const clankerAnswerSchema = clankerSchema;

export const secretsRequestSchema = z.strictObject({
  keys: z.array(z.string().min(1)).min(1).describe('The keys of the `platform:` refs, once each.'),
});

export const secretsAnswerSchema = z.object({
  secrets: z
    .record(z.string(), z.string().nullable())
    .describe('Values by key; a key absent (or null) is missing.'),
});

export const eventsRequestSchema = z.strictObject({
  events: z.array(eventSchema).describe('In seq order; empty for a heartbeat.'),
});

export const eventsAnswerSchema = z.object({
  cancel: z.boolean().optional().describe('`true` asks the worker to stop the job.'),
});

export const resultRequestSchema = resultSchema;

/** The named schemas of the OpenAPI document's `components/schemas`. */
export const CONTRACT_SCHEMAS = {
  Step: stepSchema,
  Usage: usageSchema,
  DroppedSpan: droppedSpanSchema,
  Event: eventSchema,
  Failure: failureSchema,
  Result: resultSchema,
  Clanker: clankerAnswerSchema,
  SecretsRequest: secretsRequestSchema,
  SecretsAnswer: secretsAnswerSchema,
  EventsRequest: eventsRequestSchema,
  EventsAnswer: eventsAnswerSchema,
} as const;

// ---------------------------------------------------------------------------------------------
// Type-level checks: the worker's types and these schemas describe exactly the same values.

/** Whether A and B are the same type (not merely assignable to each other). */
type Equals<A, B> =
  (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
/** Each member of a union as one flat object type (so `A & B` compares equal to `{ …A, …B }`). */
type Flat<T> = T extends unknown ? { [K in keyof T]: T[K] } : never;
/** Compiles only for `true`. */
type Check<T extends true> = T;

/** The worker's events, a drop notice included (a `log` event that may carry `dropped`). */
type WorkerEventOrNotice =
  | Exclude<WorkerEvent, { type: 'log' }>
  | (Extract<WorkerEvent, { type: 'log' }> & { dropped?: DroppedSpan });

export type ContractTypeChecks = [
  Check<Equals<(typeof FAILURE_CODES)[number], FailureCode>>,
  Check<Equals<z.infer<typeof stepSchema>, Step>>,
  Check<Equals<(typeof TOOL_KINDS)[number], ToolKind>>,
  Check<Equals<z.infer<typeof failureSchema>, Failure>>,
  Check<Equals<z.infer<typeof usageSchema>, Usage>>,
  Check<Equals<z.infer<typeof resultSchema>, Result>>,
  Check<Equals<Flat<z.infer<typeof eventSchema>>, Flat<WorkerEventOrNotice>>>,
  Check<Equals<Flat<z.infer<typeof droppedSpanSchema>>, Flat<DroppedSpan>>>,
  Check<DropNotice extends z.infer<typeof logEventSchema> ? true : false>,
];
