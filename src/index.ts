/** The worker as a library: the core, the payload and the types entry points share. */

export { AGENT_SLUGS, type AgentSlug } from './agents/types.js';
export type { Result, Usage } from './core/result.js';
export { type JobOptions, runJob } from './core/worker.js';
export { type Failure, type FailureCode, WorkerError } from './errors.js';
export type { AgentEvent, EventBody, Step, WorkerEvent } from './events.js';
export { loadPayload } from './payload/load.js';
export { type Clanker, type Payload, payloadSchema } from './payload/schema.js';
export { type ValidatedPayload, validatePayload, validatePayloadText } from './payload/validate.js';
