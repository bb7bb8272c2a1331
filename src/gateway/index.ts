export type { KeyPlacement } from './credentials.js';
export { type Gateway, type GatewayOptions, startGateway } from './gateway.js';
export type { Provider, Usage } from './types.js';
