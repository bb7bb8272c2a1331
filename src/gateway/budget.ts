/**
 * A job's consumption against its budget (`project.workerSettings.budget`, runtime.md
 * "Budget"). Tokens are everything metered: input, cached input read and written, output.
 *
 * The cap must hold however many requests the agent opens at once: the job ends at most two
 * answers' usage above it. Nothing in a request bounds its answer (a small request can be
 * answered with any number of tokens: cached context, a stored conversation, a long output),
 * so the bound is structural — see {@link BudgetMeter.mayForward}.
 */
import type { Usage } from './types.js';

export interface Budget {
  maxTokens?: number;
  maxCostUsd?: number;
}

/**
 * The most model requests in flight under a budget. Two is what the contract allows: a
 * request is let through only while the cap is not reached, so at the last one let through the
 * total is below the cap and at most two answers are still to be counted — whatever their
 * size. A third in flight would let three unknown answers land above the cap.
 */
export const MAX_IN_FLIGHT_UNDER_BUDGET = 2;

const count = (n: number) => n.toLocaleString('en-US');
const usd = (n: number) => `$${n.toFixed(n < 1 ? 4 : 2)}`;

export class BudgetMeter {
  private tokens = 0;
  private cost = 0;
  /** The largest single answer so far, in tokens and in cost. */
  private largestTokens = 0;
  private largestCost = 0;
  private answers = 0;
  private reached: 'maxTokens' | 'maxCostUsd' | undefined;

  constructor(private readonly budget: Budget | undefined) {}

  /** Adds one answer's usage (and its cost, when priced); true when a cap is now reached. */
  add(usage: Usage, costUsd: number | undefined): boolean {
    const tokens =
      usage.inputTokens + usage.outputTokens + usage.cacheReadTokens + usage.cacheWriteTokens;
    this.tokens += tokens;
    this.cost += costUsd ?? 0;
    this.largestTokens = Math.max(this.largestTokens, tokens);
    this.largestCost = Math.max(this.largestCost, costUsd ?? 0);
    this.answers++;
    if (this.reached || !this.budget) return false;
    const { maxTokens, maxCostUsd } = this.budget;
    if (maxTokens !== undefined && this.tokens >= maxTokens) this.reached = 'maxTokens';
    else if (maxCostUsd !== undefined && this.cost >= maxCostUsd) this.reached = 'maxCostUsd';
    return this.reached !== undefined;
  }

  /**
   * Whether one more model request may go upstream now, with `inFlight` already there (the
   * others wait for an answer to be metered). Without a budget: always. Under one, once no
   * cap is reached:
   * - nothing in flight: yes (the cap is below, one answer may end above it);
   * - until an answer has been metered: one at a time (nothing is known of their size);
   * - else at most {@link MAX_IN_FLIGHT_UNDER_BUDGET} in flight, and only while the budget
   *   has room for one more largest-answer-so-far each: `used + M × (inFlight + 1) ≤ cap`,
   *   in tokens and, with `maxCostUsd`, in cost. This keeps a job whose answers are alike
   *   within its cap; the limit in flight bounds it whatever the answers are.
   */
  mayForward(inFlight: number): boolean {
    const { maxTokens, maxCostUsd } = this.budget ?? {};
    if (maxTokens === undefined && maxCostUsd === undefined) return true;
    if (this.reached) return false;
    if (inFlight === 0) return true;
    if (this.answers === 0 || inFlight >= MAX_IN_FLIGHT_UNDER_BUDGET) return false;
    const room = (used: number, largest: number, cap: number | undefined) =>
      cap === undefined || used + largest * (inFlight + 1) <= cap;
    return (
      room(this.tokens, this.largestTokens, maxTokens) &&
      room(this.cost, this.largestCost, maxCostUsd)
    );
  }

  /**
   * Once a cap is reached: what was used against it, with the figures of every answer
   * metered so far (after the gateway has closed, the job's final usage).
   */
  exceeded(): string | undefined {
    if (this.reached === 'maxTokens') {
      return `${count(this.tokens)} tokens used, the cap is ${count(this.budget?.maxTokens ?? 0)} (project.workerSettings.budget.maxTokens)`;
    }
    if (this.reached === 'maxCostUsd') {
      return `${usd(this.cost)} used, the cap is ${usd(this.budget?.maxCostUsd ?? 0)} (project.workerSettings.budget.maxCostUsd)`;
    }
    return undefined;
  }
}
