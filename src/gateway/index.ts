export type { KeyPlacement } from './credentials.js';
export { type Gateway, type GatewayOptions, startGateway } from './gateway.js';
export { costUsd, findPrice, type ModelPrice, PRICE_TABLE, type PriceEntry } from './prices.js';
export type { Provider, Usage } from './types.js';
