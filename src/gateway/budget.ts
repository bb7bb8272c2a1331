/**
 * A job's consumption against its budget (`project.workerSettings.budget`, runtime.md
 * "Budget"). Tokens are everything metered: input, cached input read and written, output.
 */
import type { Usage } from './types.js';

export interface Budget {
  maxTokens?: number;
  maxCostUsd?: number;
}

const count = (n: number) => n.toLocaleString('en-US');
const usd = (n: number) => `$${n.toFixed(n < 1 ? 4 : 2)}`;

export class BudgetMeter {
  private tokens = 0;
  private cost = 0;
  private reached: string | undefined;

  constructor(private readonly budget: Budget | undefined) {}

  /** Adds one answer's usage (and its cost, when priced); true when a cap is now reached. */
  add(usage: Usage, costUsd: number | undefined): boolean {
    this.tokens +=
      usage.inputTokens + usage.outputTokens + usage.cacheReadTokens + usage.cacheWriteTokens;
    this.cost += costUsd ?? 0;
    if (this.reached || !this.budget) return false;
    const { maxTokens, maxCostUsd } = this.budget;
    if (maxTokens !== undefined && this.tokens >= maxTokens) {
      this.reached = `${count(this.tokens)} tokens used, the cap is ${count(maxTokens)} (project.workerSettings.budget.maxTokens)`;
    } else if (maxCostUsd !== undefined && this.cost >= maxCostUsd) {
      this.reached = `${usd(this.cost)} used, the cap is ${usd(maxCostUsd)} (project.workerSettings.budget.maxCostUsd)`;
    }
    return this.reached !== undefined;
  }

  /** What was used against which cap, once one is reached. */
  exceeded(): string | undefined {
    return this.reached;
  }
}
