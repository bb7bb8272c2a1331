/**
 * The budget under concurrency (runtime.md, "Budget"), through the job's gateway against the
 * real scripted model server: however many requests the agent opens at once, the job ends at
 * most two answers above its cap, and the figure the failure message states is the sum the
 * Result reports. The answers are large (`[[usage]]`) while the requests are small, as in the
 * attack: nothing in a request says how large its answer will be.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { adapterFor } from '../../src/agents/registry.js';
import { type JobGateway, startJobGateway } from '../../src/core/job-gateway.js';
import type { Budget } from '../../src/gateway/budget.js';
import { type ModelServer, startModelServer } from '../support/model-server/model-server.js';
import { defaultModelScript, type ModelScript } from '../support/model-server/scripted-model.js';

const REAL_KEY = 'real-upstream-key-known-only-to-the-model-server';
const MODEL = 'claude-sonnet-4-5'; // $3 in, $15 out per million tokens in the worker's table

let server: ModelServer | undefined;
let gateway: JobGateway | undefined;
afterEach(async () => {
  await gateway?.close();
  await server?.close();
  gateway = server = undefined;
});

interface Metered {
  tokens: number;
  costUsd: number;
  events: number;
}

async function setUp(budget: Budget | undefined, script: ModelScript = defaultModelScript) {
  server = await startModelServer({ apiKey: REAL_KEY, script });
  // What the worker sums into the Result's usage: every agent.usage event.
  const metered: Metered = { tokens: 0, costUsd: 0, events: 0 };
  const reached: number[] = [];
  gateway = await startJobGateway({
    adapter: adapterFor('claude-code'),
    clanker: { id: 'c', agent: 'claude-code', model: MODEL, baseUrl: server.url },
    modelKey: { name: 'ANTHROPIC_API_KEY', value: REAL_KEY },
    budget,
    emit: (event) => {
      metered.events++;
      metered.tokens +=
        (event.inputTokens ?? 0) +
        (event.outputTokens ?? 0) +
        (event.cacheReadTokens ?? 0) +
        (event.cacheWriteTokens ?? 0);
      metered.costUsd += event.costUsd ?? 0;
    },
    onBudgetReached: () => reached.push(metered.events),
    log: () => {},
    hostEnv: {},
  });
  return { server, gateway, metered, reached };
}

function ask(gateway: JobGateway, prompt: string, signal?: AbortSignal) {
  return fetch(`${gateway.access.baseUrl}/v1/messages`, {
    method: 'POST',
    headers: {
      'x-api-key': gateway.access.key,
      'anthropic-version': '2023-06-01',
      'content-type': 'application/json',
    },
    body: JSON.stringify({
      model: MODEL,
      max_tokens: 16,
      stream: true,
      messages: [{ role: 'user', content: prompt }],
    }),
    signal,
  }).then(
    async (res) => ({ status: res.status, text: await res.text() }),
    (error: Error) => ({ status: 0, text: error.message }),
  );
}

/** The figure the failure message states, as a number. */
function statedTokens(message: string | undefined): number {
  return Number(/([\d,]+) tokens used/.exec(message ?? '')?.[1]?.replaceAll(',', '') ?? Number.NaN);
}

describe('budget under concurrency, through the job gateway', () => {
  it('20 requests at once, 100k tokens each, cap 300k: at most two answers above it', async () => {
    const { server, gateway, metered, reached } = await setUp({ maxTokens: 300_000 });
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => ask(gateway, 'Hello.\n[[usage 50000 50000]]')),
    );
    await gateway.close();
    const statuses = answers.map((a) => a.status);
    const summary = `${statuses.join(' ')}; metered ${metered.tokens}`;
    expect(metered.tokens, summary).toBeGreaterThanOrEqual(300_000);
    expect(metered.tokens, summary).toBeLessThanOrEqual(500_000);
    expect(server.requests.length, summary).toBeLessThanOrEqual(5);
    expect(statuses.filter((s) => s === 200)).toHaveLength(server.requests.length);
    expect(statuses.filter((s) => s === 429)).toHaveLength(20 - server.requests.length);
    expect(reached).toHaveLength(1);
    expect(statedTokens(gateway.budgetExceeded()), gateway.budgetExceeded()).toBe(metered.tokens);
  });

  it('the same by cost: the message states the cost the Result reports', async () => {
    // Each answer: 50,000 × $3 + 50,000 × $15 per million = $0.90.
    const { server, gateway, metered } = await setUp({ maxCostUsd: 2 });
    await Promise.all(Array.from({ length: 20 }, () => ask(gateway, '[[usage 50000 50000]]')));
    await gateway.close();
    expect(metered.costUsd).toBeGreaterThanOrEqual(2);
    expect(metered.costUsd).toBeLessThanOrEqual(2 + 2 * 0.9 + 1e-9);
    expect(server.requests.length).toBeLessThanOrEqual(5);
    expect(gateway.budgetExceeded()).toContain(`$${metered.costUsd.toFixed(2)} used`);
  });

  it('without a budget nothing is held: all 20 reach the model at once', async () => {
    let open = 0;
    let most = 0;
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const { server, gateway } = await setUp(undefined, async (turn) => {
      most = Math.max(most, ++open);
      if (open === 20) release();
      await gate;
      open--;
      return defaultModelScript(turn);
    });
    const answers = await Promise.all(Array.from({ length: 20 }, () => ask(gateway, 'Hello.')));
    expect(answers.map((a) => a.status)).toEqual(Array(20).fill(200));
    expect(server.requests).toHaveLength(20);
    expect(most).toBe(20);
  });

  it('a held request whose client goes away leaves the queue; close() ends the ones still held', async () => {
    const gates: Array<() => void> = [];
    // Answers of 1,000 tokens under a cap of 2,500: one at a time (1,000 + 2 × 1,000 > 2,500).
    const { server, gateway } = await setUp({ maxTokens: 2500 }, async (turn) => {
      await new Promise<void>((resolve) => gates.push(resolve));
      return defaultModelScript(turn);
    });
    const first = ask(gateway, 'first\n[[usage 1000 0]]');
    await until(() => server.requests.length === 1);
    // Held: nothing has been metered yet, so one request at a time.
    const leaving = new AbortController();
    const second = ask(gateway, 'second\n[[usage 1000 0]]', leaving.signal);
    await new Promise((r) => setTimeout(r, 200));
    expect(server.requests).toHaveLength(1);
    leaving.abort();
    expect((await second).status).toBe(0);
    const third = ask(gateway, 'third\n[[usage 1000 0]]');
    await new Promise((r) => setTimeout(r, 100));
    gates.shift()?.();
    expect((await first).status).toBe(200);
    // The second left the queue: the third went next.
    await until(() => server.requests.length === 2);
    expect(prompts(server)).toEqual(['first', 'third']);
    // A fourth is held behind the third; closing ends both, and returns at once.
    const fourth = ask(gateway, 'fourth\n[[usage 1000 0]]');
    await new Promise((r) => setTimeout(r, 100));
    const started = Date.now();
    await gateway.close();
    expect(Date.now() - started).toBeLessThan(2000);
    expect((await third).status).not.toBe(200);
    expect((await fourth).status).not.toBe(200);
    expect(prompts(server)).toEqual(['first', 'third']);
  });
});

function prompts(server: ModelServer): string[] {
  return server.requests.map((r) => r.turn?.prompt.split('\n')[0] ?? '');
}

async function until(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > timeoutMs) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}
