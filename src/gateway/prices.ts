// TEMPORARY stub (not committed): replaced by the helper's table.
import type { Usage } from './types.js';
export interface ModelPrice {
  inputPerMTok: number;
  outputPerMTok: number;
  cacheReadPerMTok?: number;
  cacheWritePerMTok?: number;
}
export function findPrice(
  model: string,
  overrides?: Record<string, ModelPrice>,
): ModelPrice | undefined {
  if (overrides?.[model]) return overrides[model];
  return /claude-sonnet-4-5/.test(model)
    ? { inputPerMTok: 3, outputPerMTok: 15, cacheReadPerMTok: 0.3, cacheWritePerMTok: 3.75 }
    : undefined;
}
export function costUsd(u: Usage, p: ModelPrice): number {
  return (
    (u.inputTokens * p.inputPerMTok +
      u.outputTokens * p.outputPerMTok +
      u.cacheReadTokens * (p.cacheReadPerMTok ?? p.inputPerMTok) +
      u.cacheWriteTokens * (p.cacheWritePerMTok ?? p.inputPerMTok)) /
    1e6
  );
}
