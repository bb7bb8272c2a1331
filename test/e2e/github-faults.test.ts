/**
 * The pull request step against a GitHub that misbehaves: 5xx answers, rate limits, silence,
 * and a worker stopped while it waits. The built CLI runs real jobs against the local world;
 * the GitHub stand-in's scripted faults play the misbehaving GitHub.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { primaryRateLimit, secondaryRateLimit } from '../support/local-world/github-stand-in.js';
import { type LocalWorld, startLocalWorld } from '../support/local-world/local-world.js';
import { executionPayload, writePrompt } from '../support/payloads.js';
import { type CliRun, plantedSecrets, runCli, tempDir, worldEnv } from '../support/run-cli.js';

describe('opening the pull request when GitHub misbehaves', () => {
  const secrets = plantedSecrets();
  let world: LocalWorld;
  let env: NodeJS.ProcessEnv;
  let counter = 0;

  beforeAll(async () => {
    world = await startLocalWorld({ credentials: secrets });
    env = worldEnv(world, await tempDir('viberator-gh-faults-work-'));
  });
  afterEach(() => world.github.clearFaults());
  afterAll(async () => world?.close());

  /** A job with its own ticket, so its own branch and pull request. */
  const job = () => {
    counter += 1;
    const key = `GH-${counter}`;
    const body = {
      ...executionPayload({
        jobId: `job_gh_${counter}`,
        repoUrl: world.repoUrl,
        modelUrl: world.model.url,
        prompt: writePrompt(`gh-${counter}.txt`, `change ${counter}`),
      }),
      ticket: { id: `t_gh_${counter}`, key, title: 'GitHub fault case' },
    };
    return { body, branch: `viberator/${key}` };
  };

  const run = (
    body: unknown,
    extraEnv: Record<string, string> = {},
    onSpawn?: (pid: number) => void,
  ): Promise<CliRun> =>
    runCli(['run', '--payload', '-'], {
      env: { ...env, ...extraEnv },
      stdin: JSON.stringify(body),
      onSpawn,
    });

  /** The stand-in's requests of one job's pull request step: the look-up and the create. */
  const prRequests = (branch: string) =>
    world.github.requests.filter(
      (r) =>
        (r.method === 'GET' && r.path.includes(encodeURIComponent(`acme:${branch}`))) ||
        (r.method === 'POST' && (r.body as { head?: string } | undefined)?.head === branch),
    );

  const expectNoLeak = (result: CliRun) => {
    for (const secret of [secrets.githubToken, secrets.anthropicKey]) {
      expect(result.stdout).not.toContain(secret);
      expect(result.stderr).not.toContain(secret);
    }
  };

  it('502 twice, then the pull request is opened and the job completes', async () => {
    const { body, branch } = job();
    world.github.fault('create_pull', { status: 502, message: 'Server Error' }, 2);
    const result = await run(body);
    expect(result.result?.failure).toBeUndefined();
    expect(result.code).toBe(0);
    const pull = world.github.pulls.find((p) => p.head.ref === branch);
    expect(pull).toBeDefined();
    expect(result.result).toMatchObject({ status: 'completed', branch, prUrl: pull?.html_url });
    expect(prRequests(branch).map((r) => r.method)).toEqual(['POST', 'POST', 'POST']);
    expectNoLeak(result);
  });

  it('a rate limit that lifts in a moment is waited for, then the job completes', async () => {
    const { body, branch } = job();
    world.github.fault('create_pull', primaryRateLimit({ resetInSeconds: 1 }));
    const result = await run(body);
    expect(result.result?.failure).toBeUndefined();
    expect(result.result).toMatchObject({ status: 'completed', branch });
    expect(result.result?.prUrl).toBe(
      world.github.pulls.find((p) => p.head.ref === branch)?.html_url,
    );
    const [limited, retried] = prRequests(branch);
    expect((retried?.at ?? 0) - (limited?.at ?? 0)).toBeGreaterThanOrEqual(900);
    expect(result.progress).toContainEqual(
      expect.stringMatching(
        /^viberator: warn: GitHub rate limit: waiting \d+ s before retrying POST/,
      ),
    );
  });

  it('a secondary rate limit with retry-after is waited for, then the job completes', async () => {
    const { body, branch } = job();
    world.github.fault('create_pull', secondaryRateLimit({ retryAfterSeconds: 1, status: 429 }));
    const result = await run(body);
    expect(result.result).toMatchObject({ status: 'completed', branch });
    expect(prRequests(branch).map((r) => r.method)).toEqual(['POST', 'POST']);
  });

  it("a rate limit that lifts in an hour is not waited for: pr_failed, retryable, GitHub's message", async () => {
    const { body, branch } = job();
    world.github.fault('create_pull', primaryRateLimit({ resetInSeconds: 3600 }));
    const result = await run(body);
    expect(result.code).toBe(1);
    expect(result.result?.failure).toMatchObject({
      code: 'pr_failed',
      retryable: true,
      step: 'opening_pr',
    });
    expect(result.result?.failure?.message).toMatch(
      /GitHub answered 403: API rate limit exceeded for user ID 4242\. \(rate limit until .*, in 3\d{3} s; a job waits at most 60 s/,
    );
    expect(prRequests(branch)).toHaveLength(1);
    expect(result.result?.branch).toBe(branch);
  });

  it('a GitHub that never answers: pr_failed, retryable, within VIBERATOR_HTTP_TIMEOUT', async () => {
    const { body, branch } = job();
    world.github.fault('create_pull', 'hang');
    const result = await run(body, { VIBERATOR_HTTP_TIMEOUT: '2' });
    const finished = Date.now();
    expect(result.code).toBe(1);
    expect(result.result?.failure).toMatchObject({
      code: 'pr_failed',
      retryable: true,
      step: 'opening_pr',
    });
    expect(result.result?.failure?.message).toMatch(
      /the GitHub API at http:\/\/127\.0\.0\.1:\d+ did not answer within 2 s \(POST \/repos\/acme\/demo-app\/pulls; VIBERATOR_HTTP_TIMEOUT sets the limit\)/,
    );
    const requests = prRequests(branch);
    expect(requests).toHaveLength(1);
    // From the unanswered request to the worker's exit: the 2 s limit and little else.
    expect(finished - (requests[0]?.at ?? 0)).toBeLessThan(6000);
    expectNoLeak(result);
  });

  it('SIGTERM while GitHub does not answer: cancelled within seconds, exit 1', async () => {
    const { body, branch } = job();
    world.github.fault('create_pull', 'hang');
    let pid = 0;
    const pending = run(body, {}, (p) => {
      pid = p;
    });
    const deadline = Date.now() + 50_000;
    while (prRequests(branch).length === 0) {
      if (Date.now() > deadline) throw new Error('the job never reached the pull request step');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const signalled = Date.now();
    process.kill(pid, 'SIGTERM');
    const result = await pending;
    expect(Date.now() - signalled).toBeLessThan(4000);
    expect(result.code).toBe(1);
    expect(result.result?.failure).toMatchObject({
      code: 'cancelled',
      retryable: true,
      step: 'opening_pr',
    });
    expect(result.result?.failure?.message).toMatch(
      /asked to stop \(SIGTERM\) while opening the pull request; the branch viberator\/GH-\d+ was pushed/,
    );
    expect(result.progress.some((line) => line.startsWith('viberator: opening_pr failed'))).toBe(
      true,
    );
    expect(prRequests(branch)).toHaveLength(1);
  });

  it('SIGTERM between 5xx retries: cancelled, exit 1, no further request', async () => {
    const { body, branch } = job();
    world.github.fault('create_pull', { status: 503, message: 'Service Unavailable' }, 'always');
    let pid = 0;
    const pending = run(body, {}, (p) => {
      pid = p;
    });
    const deadline = Date.now() + 50_000;
    while (!prRequests(branch).some((r) => r.method === 'POST')) {
      if (Date.now() > deadline) throw new Error('the job never tried to create the pull request');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const signalled = Date.now();
    process.kill(pid, 'SIGTERM');
    const result = await pending;
    // The pause after the first failure is plugin-retry's 1 s; the process outlives it at most.
    expect(Date.now() - signalled).toBeLessThan(4000);
    expect(result.code).toBe(1);
    expect(result.result?.failure).toMatchObject({ code: 'cancelled', step: 'opening_pr' });
    expect(prRequests(branch).map((r) => r.method)).toEqual(['POST']);
  });

  it('SIGTERM during a rate-limit wait: cancelled at once, no wait for the limit', async () => {
    const { body, branch } = job();
    world.github.fault('create_pull', primaryRateLimit({ resetInSeconds: 45 }));
    let pid = 0;
    const pending = runCli(['run', '--payload', '-'], {
      env,
      stdin: JSON.stringify(body),
      onSpawn: (p) => {
        pid = p;
      },
    });
    const deadline = Date.now() + 50_000;
    while (prRequests(branch).length === 0) {
      if (Date.now() > deadline) throw new Error('the job never reached the pull request step');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    // Give the worker a moment to read the answer and start waiting.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const signalled = Date.now();
    process.kill(pid, 'SIGTERM');
    const result = await pending;
    expect(Date.now() - signalled).toBeLessThan(4000);
    expect(result.stderr).toMatch(/GitHub rate limit: waiting 4\d s/);
    expect(result.code).toBe(1);
    expect(result.result?.failure).toMatchObject({ code: 'cancelled', step: 'opening_pr' });
    expect(prRequests(branch)).toHaveLength(1);
  });
});
