// The event pipeline as the worker runs it, for bench/events.mjs (bundled into build/dev/ by
// tsup.config.ts; never part of the published package).
export { EventStream } from '../../src/core/event-stream.js';
export { EventDelivery } from '../../src/platform/event-delivery.js';
export { PlatformClient } from '../../src/platform/platform-http.js';
export { Redactor } from '../../src/secrets/redactor.js';
export { startPlatformStandIn } from '../../test/support/platform-stand-in.js';
