// What bench/agents.mjs drives (bundled into build/dev/ by tsup.config.ts; never part of the
// published package): the adapters, a sandbox to run one CLI bare through its adapter, the
// local world, and the worker's agent-output pipeline.
export { redactingParser } from '../../src/agents/redacting-parser.js';
export { allAdapters } from '../../src/agents/registry.js';
export { EventStream } from '../../src/core/event-stream.js';
export { runProcess } from '../../src/process/run-process.js';
export { Redactor } from '../../src/secrets/redactor.js';
export { createAgentSandbox } from '../../test/support/agent-sandbox.js';
export { startLocalWorld } from '../../test/support/local-world/local-world.js';
export { recordingProfile } from '../../test/support/record-agent-fixture.js';
