import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalWorld, startLocalWorld } from '../support/local-world/local-world.js';
import { executionPayload, writePrompt } from '../support/payloads.js';
import { processesWithEnvMarker, waitFor } from '../support/processes.js';
import { cliEnv, plantedSecrets, runCli, tempDir } from '../support/run-cli.js';
import { startStallingProxy } from '../support/stalling-proxy.js';

/**
 * Every git command the worker runs is bounded: a git server that stops answering ends the
 * clone or the push as a clear, retryable failure after VIBERATOR_GIT_STALL_TIMEOUT, and
 * SIGTERM ends it as `cancelled` — never a hang.
 */
describe('git against a server that stops answering', () => {
  const secrets = plantedSecrets();
  let world: LocalWorld;

  beforeAll(async () => {
    world = await startLocalWorld({ credentials: secrets });
  });
  afterAll(async () => world?.close());

  function job(repoUrl: string, jobId: string) {
    return JSON.stringify(
      executionPayload({
        jobId,
        repoUrl,
        modelUrl: world.model.url,
        prompt: writePrompt('notes.txt', 'bounded'),
      }),
    );
  }

  async function env(extra: Record<string, string>) {
    return cliEnv({
      VIBERATOR_WORK_ROOT: await tempDir('viberator-git-bounds-'),
      GITHUB_API_URL: world.github.apiUrl,
      ANTHROPIC_API_KEY: secrets.anthropicKey,
      GITHUB_TOKEN: secrets.githubToken,
      ...extra,
    });
  }

  it('a clone that stalls is clone_failed, retryable, within the stall limit', async () => {
    const proxy = await startStallingProxy(world.git.baseUrl, (_, url) =>
      url.includes('upload-pack'),
    );
    const repoUrl = world.repoUrl.replace(world.git.baseUrl, proxy.url);
    const started = Date.now();
    const run = await runCli(['run', '--payload', '-'], {
      env: await env({ VIBERATOR_GIT_STALL_TIMEOUT: '2' }),
      stdin: job(repoUrl, 'job_clone_stall'),
    });
    await proxy.close();
    expect(run.code).toBe(1);
    expect(run.result?.failure).toMatchObject({
      code: 'clone_failed',
      retryable: true,
      step: 'cloning',
    });
    expect(run.result?.failure.message).toContain('VIBERATOR_GIT_STALL_TIMEOUT');
    expect(proxy.stalled).toBeGreaterThan(0);
    expect(Date.now() - started).toBeLessThan(20_000);
  });

  it('a push that stalls is push_failed, retryable, and no pull request is opened', async () => {
    const proxy = await startStallingProxy(world.git.baseUrl, (_, url) =>
      url.includes('receive-pack'),
    );
    const repoUrl = world.repoUrl.replace(world.git.baseUrl, proxy.url);
    const pullsBefore = world.github.pulls.length;
    const run = await runCli(['run', '--payload', '-'], {
      env: await env({ VIBERATOR_GIT_STALL_TIMEOUT: '2' }),
      stdin: job(repoUrl, 'job_push_stall'),
    });
    await proxy.close();
    expect(run.code).toBe(1);
    expect(run.result?.failure).toMatchObject({
      code: 'push_failed',
      retryable: true,
      step: 'pushing',
    });
    expect(world.github.pulls.length).toBe(pullsBefore);
  });

  it('SIGTERM during a stalled clone: cancelled within seconds, no git process left', async () => {
    const proxy = await startStallingProxy(world.git.baseUrl, (_, url) =>
      url.includes('upload-pack'),
    );
    const repoUrl = world.repoUrl.replace(world.git.baseUrl, proxy.url);
    const jobEnv = await env({ VIBERATOR_GIT_STALL_TIMEOUT: '600' });
    let workerPid = 0;
    const pending = runCli(['run', '--payload', '-'], {
      env: jobEnv,
      stdin: job(repoUrl, 'job_clone_cancel'),
      onSpawn: (pid) => {
        workerPid = pid;
      },
    });
    // Wait until the clone is stuck on the proxy.
    await waitFor(async () => (proxy.stalled > 0 ? true : undefined), 20_000, 'a stalled fetch');
    const stoppedAt = Date.now();
    process.kill(workerPid, 'SIGTERM');
    const run = await pending;
    await proxy.close();
    expect(Date.now() - stoppedAt).toBeLessThan(10_000);
    expect(run.code).toBe(1);
    expect(run.result?.failure).toMatchObject({ code: 'cancelled', step: 'cloning' });
    // git's HOME lies inside the job's unique work root, so its processes carry that path.
    const leftovers = (await processesWithEnvMarker(String(jobEnv.VIBERATOR_WORK_ROOT))).filter(
      (p) => p.cmdline.includes('git'),
    );
    expect(leftovers).toEqual([]);
  });
});
