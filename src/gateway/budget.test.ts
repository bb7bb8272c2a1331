import { describe, expect, it } from 'vitest';
import { BudgetMeter } from './budget.js';

const usage = (inputTokens: number, outputTokens: number, cacheReadTokens = 0) => ({
  inputTokens,
  outputTokens,
  cacheReadTokens,
  cacheWriteTokens: 0,
});

describe('BudgetMeter', () => {
  it('never trips without a budget', () => {
    const meter = new BudgetMeter(undefined);
    expect(meter.add(usage(10_000_000, 10_000_000), 1000)).toBe(false);
    expect(meter.exceeded()).toBeUndefined();
  });

  it('trips once tokens (input, cached input and output) reach maxTokens, and says so once', () => {
    const meter = new BudgetMeter({ maxTokens: 1000 });
    expect(meter.add(usage(400, 100), undefined)).toBe(false);
    expect(meter.add(usage(200, 100, 200), undefined)).toBe(true);
    expect(meter.exceeded()).toBe(
      '1,000 tokens used, the cap is 1,000 (project.workerSettings.budget.maxTokens)',
    );
    // Later answers are still counted, the verdict stays the first one.
    expect(meter.add(usage(1, 1), undefined)).toBe(false);
    expect(meter.exceeded()).toContain('1,000 tokens used');
  });

  it('trips once the cost reaches maxCostUsd; unpriced answers add nothing to it', () => {
    const meter = new BudgetMeter({ maxCostUsd: 0.5 });
    expect(meter.add(usage(1, 1), undefined)).toBe(false);
    expect(meter.add(usage(1, 1), 0.3)).toBe(false);
    expect(meter.add(usage(1, 1), 0.45)).toBe(true);
    expect(meter.exceeded()).toBe(
      '$0.7500 used, the cap is $0.5000 (project.workerSettings.budget.maxCostUsd)',
    );
  });
});
