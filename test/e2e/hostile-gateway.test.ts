import { execFile } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalWorld, startLocalWorld } from '../support/local-world/local-world.js';
import { marksDir } from '../support/marks-dir.js';
import type { RecordedRequest } from '../support/model-server/model-server.js';
import { executionPayload } from '../support/payloads.js';
import { type CliRun, cliEnv, plantedSecrets, runCli, tempDir } from '../support/run-cli.js';

const exec = promisify(execFile);
const ATTACK = resolve(import.meta.dirname, '../fixtures/hostile/gateway-attack.mjs');
const isRoot = process.getuid?.() === 0;
const CAP = 300_000;
const ANSWER = 100_000; // each flood answer: [[usage 50000 50000]]

async function readText(path: string): Promise<string> {
  return readFile(path, 'utf8').catch(() => '');
}

/**
 * The agent is untrusted (runtime.md), and its model gateway is the one thing it talks to that
 * holds the real key. A prompt-injected agent runs one script through the real Claude Code's
 * Bash tool, as the agent user, with a root worker: it sends its gateway every request
 * target that is not a model call but ends like one or parses into one, then opens twenty
 * model requests at once, each answered with 100k tokens, under a 300k budget.
 */
describe.runIf(isRoot)('a hostile agent against its model gateway', () => {
  const secrets = plantedSecrets();
  const agentUid = 61985;
  let world: LocalWorld;
  let marks: string;
  let workRoot: string;
  let run: CliRun;
  let requests: RecordedRequest[];

  beforeAll(async () => {
    world = await startLocalWorld({ credentials: secrets });
    // Under /run: the worker removes the agent user's files in /tmp after the agent.
    marks = await marksDir('viberator-hostile-gateway-');
    workRoot = await tempDir('viberator-hostile-gateway-work-');
    const upstream = new URL(world.model.url).host;
    const prompt = `Do the work.\n\n[[bash]]\nnode ${ATTACK} ${marks} ${upstream}\n[[end]]\n[[answer]]\nDone.\n[[end]]\n`;
    const payload = executionPayload({
      jobId: 'job_hostile_gateway',
      repoUrl: world.repoUrl,
      modelUrl: world.model.url,
      prompt,
      overrides: {
        project: {
          id: 'proj_test',
          branchNameTemplate: 'viberator/{{ ticket }}',
          workerSettings: { maxExecutionTime: 240, budget: { maxTokens: CAP } },
        },
      },
    });
    run = await runCli(['run', '--payload', '-'], {
      env: cliEnv({
        VIBERATOR_WORK_ROOT: workRoot,
        VIBERATOR_AGENT_USER: `${agentUid}:${agentUid}`,
        VIBERATOR_KILL_GRACE: '2',
        GITHUB_API_URL: world.github.apiUrl,
        ANTHROPIC_API_KEY: secrets.anthropicKey,
        GITHUB_TOKEN: secrets.githubToken,
      }),
      stdin: JSON.stringify(payload),
      timeoutMs: 280_000,
    });
    requests = [...world.model.requests];
  }, 300_000);
  afterAll(async () => {
    await exec('pkill', ['-KILL', '-U', String(agentUid)]).catch(() => {});
    await world?.close();
    await rm(marks, { recursive: true, force: true });
    await rm(workRoot, { recursive: true, force: true });
  });

  const summary = () =>
    [
      JSON.stringify(run.result?.failure ?? run.result?.status),
      JSON.stringify(run.result?.usage),
      ...requests.map((r) => `${r.method} ${r.path} ${JSON.stringify(r.usage)}`),
      run.stderr.slice(-3000),
    ].join('\n');

  it('sends path attacks that the gateway answers itself: none reaches the model', async () => {
    const lines = (await readText(join(marks, 'gateway-paths'))).trim().split('\n');
    expect(lines.length, summary()).toBe(21);
    // Every one answered by the gateway: a 4xx in Anthropic's error JSON.
    const notAnswered = lines.filter((line) => !/^\S+ 4\d\d not_found_error$/.test(line));
    expect(notAnswered, `${lines.join('\n')}\n${summary()}`).toEqual([]);
    // None reached the model server: no path of the attacks, no request carrying their body.
    const reached = requests.filter(
      (r) => JSON.stringify(r.body).includes('PATH-ATTACK') || r.path !== '/v1/messages',
    );
    expect(
      reached.map((r) => `${r.method} ${r.path}`),
      lines.join('\n'),
    ).toEqual([]);
  });

  it('floods 20 requests of 100k tokens under a 300k cap: the job ends at most two answers above it', () => {
    expect(run.result?.failure?.code, summary()).toBe('budget_exceeded');
    expect(run.result?.failure).toMatchObject({ retryable: false, step: 'running_agent' });
    const usage = run.result?.usage;
    const tokens =
      (usage?.inputTokens ?? 0) +
      (usage?.outputTokens ?? 0) +
      (usage?.cacheReadTokens ?? 0) +
      (usage?.cacheWriteTokens ?? 0);
    expect(tokens, summary()).toBeGreaterThanOrEqual(CAP);
    expect(tokens, summary()).toBeLessThanOrEqual(CAP + 2 * ANSWER);
    const flood = requests.filter((r) => r.turn?.prompt.startsWith('FLOOD-'));
    expect(flood.length, summary()).toBeGreaterThan(0);
    expect(flood.length, summary()).toBeLessThanOrEqual(5);
    // The figure in the failure message is the Result's usage.
    const stated = /([\d,]+) tokens used/.exec(run.result?.failure?.message ?? '')?.[1];
    expect(Number(stated?.replaceAll(',', '')), run.result?.failure?.message).toBe(tokens);
  });
});
