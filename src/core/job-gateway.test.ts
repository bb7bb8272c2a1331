import { describe, expect, it } from 'vitest';
import { allAdapters } from '../agents/registry.js';
import { findPrice } from '../gateway/prices.js';
import { checkBudgetPrice } from './job-gateway.js';

const claude = allAdapters().find((a) => a.slug === 'claude-code');

describe('checkBudgetPrice: a maxCostUsd budget needs the model price before the agent starts', () => {
  it("every agent's default model has a price, so a cost budget works without clanker.model", () => {
    for (const adapter of allAdapters()) {
      expect(adapter.defaultModel, adapter.slug).toBeTypeOf('string');
      expect(findPrice(adapter.defaultModel ?? ''), adapter.slug).toBeDefined();
    }
  });

  it('refuses an unpriced model with maxCostUsd, naming it; lets it run with maxTokens only', () => {
    if (!claude) throw new Error('no claude adapter');
    const clanker = { id: 'c', agent: 'claude-code' as const, model: 'house-model-7' };
    expect(() => checkBudgetPrice(claude, clanker, { maxCostUsd: 1 })).toThrow(
      expect.objectContaining({
        code: 'invalid_payload',
        message: expect.stringContaining('model house-model-7 has no price'),
      }),
    );
    expect(() => checkBudgetPrice(claude, clanker, { maxTokens: 1000 })).not.toThrow();
    expect(() => checkBudgetPrice(claude, clanker, undefined)).not.toThrow();
    // clanker.prices gives it one.
    expect(() =>
      checkBudgetPrice(
        claude,
        { ...clanker, prices: { 'house-model-7': { inputPerMTok: 1, outputPerMTok: 2 } } },
        { maxCostUsd: 1 },
      ),
    ).not.toThrow();
  });
});
