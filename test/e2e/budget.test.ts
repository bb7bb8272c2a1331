/**
 * Budget caps (runtime.md, "Budget") through the built worker with the real Claude Code, the
 * fastest CLI: the scripted model reports large usage per answer (`[[usage]]`), the gateway
 * meters it, and once `maxTokens` or `maxCostUsd` is reached nothing more reaches the model,
 * the agent is stopped and the job fails with `budget_exceeded`, pushing nothing. Prices: the
 * worker's table has `claude-sonnet-4-5` at $3 in / $15 out per million tokens.
 */
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalWorld, startLocalWorld } from '../support/local-world/local-world.js';
import { listBranches, readBranch } from '../support/local-world/seed-repo.js';
import { type RecordedRequest, sumReportedUsage } from '../support/model-server/model-server.js';
import { executionPayload, writePrompt } from '../support/payloads.js';
import { type CliRun, plantedSecrets, runCli, tempDir, worldEnv } from '../support/run-cli.js';

const PRICED_MODEL = 'claude-sonnet-4-5';
const PRICE = { inputPerMTok: 3, outputPerMTok: 15 };

interface Budget {
  maxTokens?: number;
  maxCostUsd?: number;
}

interface BudgetRun {
  cli: CliRun;
  /** The ticket's branch, e.g. `viberator/BUDGET-1`. */
  branch: string;
  /** A string only this job's prompt carries. */
  marker: string;
  /** What the model server received during the job. */
  requests: RecordedRequest[];
  /** Pull requests the GitHub stand-in got during the job. */
  newPulls: number;
  elapsedMs: number;
}

/** The cost of what the server reported, at one price for every request. */
function costOf(requests: RecordedRequest[], price = PRICE): number {
  const { inputTokens, outputTokens } = sumReportedUsage(requests);
  return (inputTokens * price.inputPerMTok + outputTokens * price.outputPerMTok) / 1_000_000;
}

/** Requests carrying the job's prompt (the model calls: every one of Claude Code's does). */
function promptRequests(run: BudgetRun): RecordedRequest[] {
  return run.requests.filter((r) => r.turn?.prompt.includes(run.marker));
}

/** What reached the model server after the job's n-th prompt-carrying request. */
function requestsAfter(run: BudgetRun, n: number): string[] {
  const last = promptRequests(run)[n - 1];
  return run.requests.slice(last ? run.requests.indexOf(last) + 1 : 0).map((r) => {
    return `${r.method} ${r.path}`;
  });
}

function summary(run: BudgetRun): string {
  return [
    JSON.stringify(run.cli.result?.failure ?? run.cli.result?.status),
    ...run.requests.map((r) => `${r.method} ${r.path} ${r.turn?.model} ${JSON.stringify(r.usage)}`),
    run.cli.stderr.slice(-2000),
  ].join('\n');
}

describe('budget caps: the gateway meters, the worker stops the agent', () => {
  const secrets = plantedSecrets();
  let world: LocalWorld;
  let workRoot: string;
  let jobs = 0;

  beforeAll(async () => {
    world = await startLocalWorld({ credentials: secrets });
    workRoot = await tempDir('viberator-budget-');
  });
  afterAll(async () => {
    await world?.close();
    if (workRoot) await rm(workRoot, { recursive: true, force: true });
  });

  /** Runs one job with its own ticket (so its own branch) and a unique marker in the prompt. */
  async function runJob(
    steps: string,
    opts: { model: string; budget?: Budget; prices?: Record<string, typeof PRICE> },
  ): Promise<BudgetRun> {
    jobs++;
    const marker = `BUDGET-MARK-${randomBytes(6).toString('hex')}`;
    const ticketKey = `BUDGET-${jobs}`;
    const before = world.model.requests.length;
    const pullsBefore = world.github.pulls.length;
    const started = Date.now();
    const payload = executionPayload({
      jobId: `job_budget_${jobs}`,
      repoUrl: world.repoUrl,
      modelUrl: '',
      prompt: `Job ${marker}.\n${steps}`,
      overrides: {
        project: {
          id: 'proj_test',
          branchNameTemplate: 'viberator/{{ ticket }}',
          workerSettings: {
            maxExecutionTime: 240,
            ...(opts.budget ? { budget: opts.budget } : {}),
          },
        },
        ticket: { id: `t_budget_${jobs}`, key: ticketKey, title: 'Spend the budget' },
        clanker: {
          id: 'clk_test',
          name: 'test-bot',
          agent: 'claude-code',
          model: opts.model,
          baseUrl: world.model.url,
          ...(opts.prices ? { prices: opts.prices } : {}),
        },
        secrets: [{ name: 'ANTHROPIC_API_KEY' }, { name: 'GITHUB_TOKEN' }],
      },
    });
    const cli = await runCli(['run', '--payload', '-'], {
      stdin: JSON.stringify(payload),
      timeoutMs: 280_000,
      env: worldEnv(world, workRoot, { VIBERATOR_KILL_GRACE: '2' }),
    });
    return {
      cli,
      branch: `viberator/${ticketKey}`,
      marker,
      requests: world.model.requests.slice(before),
      newPulls: world.github.pulls.length - pullsBefore,
      elapsedMs: Date.now() - started,
    };
  }

  /** budget_exceeded as runtime.md has it: not retryable, running_agent, nothing pushed. */
  async function expectBudgetExceeded(run: BudgetRun, cap: 'maxTokens' | 'maxCostUsd') {
    const { cli } = run;
    expect(cli.result?.failure?.code, summary(run)).toBe('budget_exceeded');
    expect(cli.result?.status).toBe('failed');
    expect(cli.result?.failure).toMatchObject({ retryable: false, step: 'running_agent' });
    expect(cli.result?.failure?.message).toContain(cap);
    expect(cli.code).toBe(1);
    // The worker stopped the agent: well before the wall clock (240 s).
    expect(run.elapsedMs, summary(run)).toBeLessThan(90_000);
    // Nothing pushed, no pull request.
    expect(await readBranch(world.bareRepo, run.branch)).toBeNull();
    expect(await listBranches(world.bareRepo)).not.toContain(run.branch);
    expect(run.newPulls).toBe(0);
    // The usage so far is in the Result: what the server reported for the answers it gave.
    const reported = sumReportedUsage(run.requests);
    const usage = cli.result?.usage as Record<string, number | undefined> | undefined;
    expect(usage, summary(run)).toBeDefined();
    expect(
      (usage?.inputTokens ?? 0) + (usage?.cacheReadTokens ?? 0) + (usage?.cacheWriteTokens ?? 0),
    ).toBe(reported.inputTokens);
    expect(usage?.outputTokens).toBe(reported.outputTokens);
    // The key the worker was given never shows.
    expect(cli.stdout + cli.stderr).not.toContain(secrets.anthropicKey);
  }

  const WRITES = ['a', 'b', 'c', 'd']
    .map((name) => `[[write notes/${name}.txt]]\nNote ${name}.\n[[end]]`)
    .join('\n');

  it('maxTokens: two answers of 61,000 tokens pass a cap of 100,000, the third request does not', {
    timeout: 300_000,
  }, async () => {
    const run = await runJob(`[[usage 60000 1000]]\n${WRITES}`, {
      model: PRICED_MODEL,
      budget: { maxTokens: 100_000 },
    });
    await expectBudgetExceeded(run, 'maxTokens');
    const usage = run.cli.result?.usage as Record<string, number | undefined>;
    const tokens = ['inputTokens', 'outputTokens', 'cacheReadTokens', 'cacheWriteTokens'];
    expect(tokens.reduce((sum, field) => sum + (usage[field] ?? 0), 0)).toBeGreaterThanOrEqual(
      100_000,
    );
    // The first answer (61,000) stays under the cap, the second (122,000) reaches it.
    expect(promptRequests(run), summary(run)).toHaveLength(2);
    expect(requestsAfter(run, 2), summary(run)).toEqual([]);
  });

  it('maxCostUsd: one answer at $0.75 passes a cap of $0.50, nothing more reaches the model', {
    timeout: 300_000,
  }, async () => {
    const run = await runJob(`[[usage 200000 10000]]\n${WRITES}`, {
      model: PRICED_MODEL,
      budget: { maxCostUsd: 0.5 },
    });
    await expectBudgetExceeded(run, 'maxCostUsd');
    // 200,000 × $3 + 10,000 × $15 per million tokens.
    expect(run.cli.result?.usage?.costUsd).toBeCloseTo(0.75, 6);
    expect(promptRequests(run), summary(run)).toHaveLength(1);
    expect(requestsAfter(run, 1), summary(run)).toEqual([]);
  });

  it("maxCostUsd with the clanker's own price for a model the table does not know", {
    timeout: 300_000,
  }, async () => {
    const run = await runJob(`[[usage 200000 10000]]\n${WRITES}`, {
      model: 'house-model',
      budget: { maxCostUsd: 0.5 },
      prices: { 'house-model': PRICE },
    });
    await expectBudgetExceeded(run, 'maxCostUsd');
    expect(promptRequests(run).map((r) => r.turn?.model)).toEqual(['house-model']);
    expect(run.cli.result?.usage?.costUsd).toBeCloseTo(0.75, 6);
    expect(requestsAfter(run, 1), summary(run)).toEqual([]);
  });

  it('maxCostUsd with a model that has no price: invalid_payload naming it, before the agent', {
    timeout: 300_000,
  }, async () => {
    const model = `unpriced-model-${randomBytes(3).toString('hex')}`;
    const run = await runJob(writePrompt('a.txt', 'A'), {
      model,
      budget: { maxCostUsd: 5 },
    });
    expect(run.cli.result?.failure?.code, summary(run)).toBe('invalid_payload');
    expect(run.cli.result?.failure?.retryable).toBe(false);
    expect(run.cli.result?.failure?.message).toContain(model);
    // runtime.md: a payload that could not be validated exits 2.
    expect(run.cli.code).toBe(2);
    expect(run.requests).toEqual([]);
    expect(await readBranch(world.bareRepo, run.branch)).toBeNull();
    expect(run.newPulls).toBe(0);
  });

  it('a budget that is not reached: the job completes and reports its cost', {
    timeout: 300_000,
  }, async () => {
    const run = await runJob(writePrompt('src/login.js', "export const redirect = '/home';"), {
      model: PRICED_MODEL,
      budget: { maxTokens: 5_000_000, maxCostUsd: 50 },
    });
    expect(run.cli.result?.failure, summary(run)).toBeUndefined();
    expect(run.cli.code).toBe(0);
    expect(run.cli.result).toMatchObject({ status: 'completed', changedFiles: 1 });
    expect((await readBranch(world.bareRepo, run.branch))?.sha).toBe(run.cli.result?.commitSha);
    expect(run.newPulls).toBe(1);
    // Every model call went to the priced model: the cost is the server's usage at its price.
    const models = new Set(run.requests.flatMap((r) => (r.turn ? [r.turn.model] : [])));
    expect([...models]).toEqual([PRICED_MODEL]);
    const cost = run.cli.result?.usage?.costUsd as number | undefined;
    expect(cost).toBeGreaterThan(0);
    expect(cost).toBeCloseTo(costOf(run.requests), 9);
  });
});
