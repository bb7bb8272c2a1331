/** The worker as a library: the core, the payload and the types entry points share. */
export { runJob, type JobOptions } from './core/worker.js';
export type { Result, Usage } from './core/result.js';
export { validatePayload, validatePayloadText, type ValidatedPayload } from './payload/validate.js';
export { loadPayload } from './payload/load.js';
export { payloadSchema, type Payload, type Clanker } from './payload/schema.js';
export { WorkerError, type Failure, type FailureCode } from './errors.js';
export type { WorkerEvent, EventBody, AgentEvent, Step } from './events.js';
export { AGENT_SLUGS, type AgentSlug } from './agents/types.js';
