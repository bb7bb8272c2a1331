import { describe, expect, it } from 'vitest';
import { type Budget, BudgetMeter } from './budget.js';

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
    expect(meter.add(usage(1, 1), undefined)).toBe(false);
  });

  it('states the figure of every answer metered, including those that ended after the cap', () => {
    // The failure message is built once the gateway has closed: its figure is the Result's.
    const meter = new BudgetMeter({ maxTokens: 1000, maxCostUsd: 100 });
    meter.add(usage(900, 200), 0.25);
    meter.add(usage(300, 100), 0.5);
    expect(meter.exceeded()).toBe(
      '1,500 tokens used, the cap is 1,000 (project.workerSettings.budget.maxTokens)',
    );
  });

  it('trips once the cost reaches maxCostUsd; unpriced answers add nothing to it', () => {
    const meter = new BudgetMeter({ maxCostUsd: 0.5 });
    expect(meter.add(usage(1, 1), undefined)).toBe(false);
    expect(meter.add(usage(1, 1), 0.3)).toBe(false);
    expect(meter.add(usage(1, 1), 0.45)).toBe(true);
    expect(meter.exceeded()).toBe(
      '$0.7500 used, the cap is $0.5000 (project.workerSettings.budget.maxCostUsd)',
    );
    meter.add(usage(1, 1), 0.1);
    expect(meter.exceeded()).toContain('$0.8500 used');
  });
});

describe('BudgetMeter.mayForward: admission under concurrency', () => {
  it('holds nothing without a budget', () => {
    const meter = new BudgetMeter(undefined);
    for (const inFlight of [0, 1, 5, 100]) expect(meter.mayForward(inFlight)).toBe(true);
    expect(new BudgetMeter({}).mayForward(50)).toBe(true);
  });

  it('one request at a time until an answer has been metered', () => {
    const meter = new BudgetMeter({ maxTokens: 1_000_000 });
    expect(meter.mayForward(0)).toBe(true);
    expect(meter.mayForward(1)).toBe(false);
    // An answer without usage (an error, an unmetered stream) teaches nothing.
    expect(meter.mayForward(1)).toBe(false);
    meter.add(usage(1000, 1000), undefined);
    expect(meter.mayForward(1)).toBe(true);
  });

  it('a second request only while used + 2 × the largest answer stays within the cap', () => {
    const meter = new BudgetMeter({ maxTokens: 300_000 });
    meter.add(usage(50_000, 50_000), undefined);
    // 100,000 + 2 × 100,000 = 300,000 ≤ 300,000.
    expect(meter.mayForward(1)).toBe(true);
    meter.add(usage(1, 0), undefined);
    expect(meter.mayForward(1)).toBe(false);
    // Nothing in flight: one request is always let through below the cap.
    expect(meter.mayForward(0)).toBe(true);
  });

  it('never more than two in flight, however small the answers so far', () => {
    // A tiny first answer must not open the door to a flood of large ones.
    const meter = new BudgetMeter({ maxTokens: 300_000 });
    meter.add(usage(1, 1), undefined);
    expect(meter.mayForward(1)).toBe(true);
    expect(meter.mayForward(2)).toBe(false);
    expect(meter.mayForward(19)).toBe(false);
  });

  it('reserves by cost as by tokens when maxCostUsd is set', () => {
    const meter = new BudgetMeter({ maxCostUsd: 1, maxTokens: 10_000_000 });
    meter.add(usage(10, 10), 0.3);
    // $0.30 + 2 × $0.30 = $0.90 ≤ $1.
    expect(meter.mayForward(1)).toBe(true);
    meter.add(usage(10, 10), 0.2);
    // $0.50 + 2 × $0.30 > $1.
    expect(meter.mayForward(1)).toBe(false);
    expect(meter.mayForward(0)).toBe(true);
  });

  it('nothing once a cap is reached', () => {
    const meter = new BudgetMeter({ maxTokens: 100 });
    meter.add(usage(100, 0), undefined);
    expect(meter.mayForward(0)).toBe(false);
  });

  /**
   * The bound of runtime.md, simulated: 20 requests opened at once, answered in any order
   * with any sizes up to A; the job ends below cap + 2 × A.
   */
  it.each<[string, Budget, (i: number) => number]>([
    ['equal answers (the issue: 20 × 100k under 300k)', { maxTokens: 300_000 }, () => 100_000],
    ['a tiny first answer, then huge ones', { maxTokens: 300_000 }, (i) => (i === 0 ? 2 : 250_000)],
    ['growing answers', { maxTokens: 1_000_000 }, (i) => 10_000 * 2 ** i],
    ['answers each above the cap', { maxTokens: 1000 }, () => 5000],
  ])('%s: at most two answers above the cap', (_name, budget, size) => {
    const meter = new BudgetMeter(budget);
    const waiting = Array.from({ length: 20 }, (_, i) => i);
    const inFlight: number[] = [];
    let largest = 0;
    let forwarded = 0;
    const admit = () => {
      while (waiting.length > 0 && !meter.exceeded() && meter.mayForward(inFlight.length)) {
        inFlight.push(size(waiting.shift() ?? 0));
        forwarded++;
      }
      if (meter.exceeded()) waiting.length = 0; // refused
    };
    admit();
    while (inFlight.length > 0) {
      const answer = inFlight.shift() ?? 0;
      largest = Math.max(largest, answer);
      meter.add(usage(answer, 0), undefined);
      admit();
    }
    const used = Number(
      /^([\d,]+) tokens used/.exec(meter.exceeded() ?? '')?.[1]?.replaceAll(',', ''),
    );
    expect(used).toBeLessThan((budget.maxTokens ?? 0) + 2 * largest);
    expect(forwarded).toBeLessThan(20);
  });
});
