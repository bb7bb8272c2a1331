import { access, chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type LocalWorld, startLocalWorld } from '../support/local-world/local-world.js';
import { listBranches } from '../support/local-world/seed-repo.js';
import { executionPayload, writePrompt } from '../support/payloads.js';
import { type PlatformStandIn, startPlatformStandIn } from '../support/platform-stand-in.js';
import { processesOfUid, processesWithEnvMarker, waitFor } from '../support/processes.js';
import { type CliRun, plantedSecrets, runCli, tempDir, worldEnv } from '../support/run-cli.js';
import { type S3StandIn, startS3StandIn } from '../support/s3-stand-in.js';
import { startStallingProxy } from '../support/stalling-proxy.js';

const isRoot = process.getuid?.() === 0;

/**
 * `viberator ecs` (runtime.md "Entry points", payload.md "How each entry point receives it"):
 * the built CLI as the ECS task's command, its job in environment variables — inline, or an
 * object in S3 (s3rver) — running the real Claude Code against the local world; and SIGTERM,
 * as ECS sends it when it stops a task, while the agent runs.
 */
describe('the ECS entry point (viberator ecs)', () => {
  const secrets = plantedSecrets();
  const callbackToken = `cb_ecs_planted${Date.now().toString(36)}0123456789`;
  let world: LocalWorld;
  let s3: S3StandIn;
  let s3Env: Record<string, string>;
  let client: S3Client;
  let platform: PlatformStandIn | undefined;
  let counter = 0;

  beforeAll(async () => {
    world = await startLocalWorld({ credentials: secrets });
    s3 = await startS3StandIn(['jobs']);
    s3Env = s3.env;
    client = s3.client;
  });
  afterEach(async () => {
    await platform?.close();
    platform = undefined;
  });
  afterAll(async () => {
    await s3?.close();
    await world?.close();
  });

  /** A payload with its own jobId and ticket (so its own branch); `overrides` on top. */
  function payload(prompt: string, overrides: Record<string, unknown> = {}) {
    counter += 1;
    const jobId = `job_ecs_${counter}`;
    const body = executionPayload({
      jobId,
      repoUrl: world.repoUrl,
      modelUrl: world.model.url,
      prompt,
      overrides: {
        ticket: { id: `t_ecs_${counter}`, key: `ECS-${counter}`, title: 'ECS job' },
        ...overrides,
      },
    });
    return { jobId, body, branch: `viberator/ECS-${counter}` };
  }

  /** The task's environment: the worker's variables plus the task's own. */
  async function taskEnv(vars: Record<string, string>) {
    const workRoot = await tempDir('viberator-ecs-work-');
    const env = worldEnv(world, workRoot, { ...s3Env, ...vars });
    return { env, workRoot };
  }

  function ecs(env: NodeJS.ProcessEnv, onSpawn?: (pid: number) => void): Promise<CliRun> {
    return runCli(['ecs'], { env, onSpawn });
  }

  function expectNoLeak(run: CliRun) {
    const everything = `${run.stdout}${run.stderr}${JSON.stringify(platform?.requests ?? [])}`;
    for (const secret of [secrets.githubToken, secrets.anthropicKey, callbackToken])
      expect(everything).not.toContain(secret);
  }

  it('VIBERATOR_PAYLOAD (inline JSON) with a matching VIBERATOR_JOB_ID: the job runs, exit 0', async () => {
    const { jobId, body, branch } = payload(writePrompt('ecs-inline.md', 'from ECS'));
    const { env } = await taskEnv({
      VIBERATOR_PAYLOAD: JSON.stringify(body),
      VIBERATOR_JOB_ID: jobId,
    });
    const run = await ecs(env);
    expect(run.result?.failure).toBeUndefined();
    expect(run.code).toBe(0);
    expect(run.result).toMatchObject({
      jobId,
      status: 'completed',
      phase: 'execution',
      agent: 'claude-code',
      branch,
      changedFiles: 1,
    });
    expect(await listBranches(world.bareRepo)).toContain(branch);
    expect(world.github.pulls.some((pull) => pull.head.ref === branch)).toBe(true);
    expectNoLeak(run);
  });

  it('VIBERATOR_PAYLOAD_URI s3://… with a callback: the Result on stdout and to the platform', async () => {
    const { jobId, body, branch } = payload(writePrompt('ecs-s3.md', 'from S3'));
    platform = await startPlatformStandIn({ token: callbackToken, jobId });
    const key = `${jobId}/payload.json`;
    await client.send(
      new PutObjectCommand({
        Bucket: 'jobs',
        Key: key,
        Body: JSON.stringify({ ...body, callback: { url: platform.url, token: callbackToken } }),
      }),
    );
    const { env } = await taskEnv({ VIBERATOR_PAYLOAD_URI: `s3://jobs/${key}` });
    const run = await ecs(env);
    expect(run.result?.failure).toBeUndefined();
    expect(run.code).toBe(0);
    expect(run.result).toMatchObject({ jobId, status: 'completed', branch });
    expect(platform.results).toEqual([run.result]);
    const statuses = platform.events
      .filter((event) => event.type === 'status')
      .map((event) => `${event.step} ${event.state}`);
    expect(statuses.at(-1)).toBe('reporting completed');
    expectNoLeak(run);
  });

  it('VIBERATOR_PAYLOAD_URI as a path', async () => {
    const { jobId, body } = payload(
      'Summarise the repository.\n[[answer]]\nA demo app, read from a file.\n[[end]]\n',
      { template: 'ticket_research' },
    );
    const dir = await tempDir('viberator-ecs-file-');
    const file = join(dir, 'payload.json');
    await writeFile(file, JSON.stringify(body));
    const { env } = await taskEnv({ VIBERATOR_PAYLOAD_URI: file, VIBERATOR_JOB_ID: jobId });
    const run = await ecs(env);
    expect(run.result?.failure).toBeUndefined();
    expect(run.code).toBe(0);
    expect(run.result).toMatchObject({
      jobId,
      status: 'completed',
      phase: 'research',
      document: 'A demo app, read from a file.',
    });
  });

  describe('a task that cannot say which job: invalid_payload, exit 2, nothing run or created, no callback', () => {
    /** `vars` may be a function of the platform stand-in's URL, for a payload's callback. */
    async function refused(
      vars: Record<string, string> | ((platformUrl: string) => Record<string, string>),
    ) {
      platform = await startPlatformStandIn({ token: callbackToken });
      const taskVars = typeof vars === 'function' ? vars(platform.url) : vars;
      const before = {
        git: world.git.requests.length,
        github: world.github.requests.length,
        model: world.model.requests.length,
      };
      const { env, workRoot } = await taskEnv(taskVars);
      const run = await ecs(env);
      expect(run.code).toBe(2);
      expect(run.result).toMatchObject({
        status: 'failed',
        failure: { code: 'invalid_payload', retryable: false, step: 'received' },
      });
      expect(run.stderr).toContain(run.result?.failure.message);
      expect(world.git.requests.length).toBe(before.git);
      expect(world.github.requests.length).toBe(before.github);
      expect(world.model.requests.length).toBe(before.model);
      expect(platform.requests).toEqual([]);
      await expect(access(join(workRoot, run.result?.jobId ?? 'unknown'))).rejects.toThrow();
      return run;
    }

    it('neither VIBERATOR_PAYLOAD nor VIBERATOR_PAYLOAD_URI', async () => {
      const run = await refused({ VIBERATOR_PAYLOAD: '' });
      expect(run.result?.jobId).toBe('unknown');
      expect(run.result?.failure.message).toBe(
        'invalid payload: no payload: set VIBERATOR_PAYLOAD (the payload as JSON) or VIBERATOR_PAYLOAD_URI (s3://bucket/key or a path)',
      );
    });

    it('both VIBERATOR_PAYLOAD and VIBERATOR_PAYLOAD_URI', async () => {
      const { jobId, body } = payload(writePrompt('both.md', 'both'));
      const run = await refused({
        VIBERATOR_PAYLOAD: JSON.stringify(body),
        VIBERATOR_PAYLOAD_URI: 's3://jobs/other.json',
        VIBERATOR_JOB_ID: jobId,
      });
      expect(run.result?.jobId).toBe(jobId);
      expect(run.result?.failure.message).toMatch(
        /set either VIBERATOR_PAYLOAD .* or VIBERATOR_PAYLOAD_URI .*, not both/,
      );
    });

    it('VIBERATOR_JOB_ID other than the payload’s jobId: both named', async () => {
      const { jobId, body } = payload(writePrompt('mismatch.md', 'mismatch'));
      const run = await refused((platformUrl) => ({
        VIBERATOR_PAYLOAD: JSON.stringify({
          ...body,
          callback: { url: platformUrl, token: callbackToken },
        }),
        VIBERATOR_JOB_ID: 'job_ecs_expected',
      }));
      // The task was started for VIBERATOR_JOB_ID: that is the job its Result names.
      expect(run.result?.jobId).toBe('job_ecs_expected');
      expect(run.result?.failure.message).toBe(
        `invalid payload: jobId: the payload's jobId is "${jobId}" but VIBERATOR_JOB_ID is "job_ecs_expected"`,
      );
    });

    it('a mismatch beside other problems: every problem in one message', async () => {
      const run = await refused({
        VIBERATOR_PAYLOAD: JSON.stringify({ version: 1, jobId: 'job_ecs_other' }),
        VIBERATOR_JOB_ID: 'job_ecs_expected',
      });
      expect(run.result?.failure.message).toMatch(
        /^invalid payload: .*prompt: is required.*; jobId: the payload's jobId is "job_ecs_other" but VIBERATOR_JOB_ID is "job_ecs_expected"$/,
      );
    });

    it('inline JSON that does not parse', async () => {
      const run = await refused({ VIBERATOR_PAYLOAD: '{"jobId": ' });
      expect(run.result?.failure.message).toMatch(
        /^invalid payload: VIBERATOR_PAYLOAD is not valid JSON/,
      );
    });

    it('an S3 object that does not exist', async () => {
      const run = await refused({
        VIBERATOR_PAYLOAD_URI: 's3://jobs/missing.json',
        VIBERATOR_JOB_ID: 'job_ecs_missing',
      });
      expect(run.result?.jobId).toBe('job_ecs_missing');
      expect(run.result?.failure.message).toMatch(
        /could not read s3:\/\/jobs\/missing\.json: .*(NoSuchKey|does not exist)/,
      );
    });
  });

  it('SIGTERM while the payload is fetched from S3 (no answer): cancelled at once, exit 1', async () => {
    const proxy = await startStallingProxy(s3Env.AWS_ENDPOINT_URL_S3 ?? '', (_method, url) =>
      url.includes('/stalled/'),
    );
    try {
      const { env } = await taskEnv({
        AWS_ENDPOINT_URL_S3: proxy.url,
        VIBERATOR_PAYLOAD_URI: 's3://jobs/stalled/payload.json',
        VIBERATOR_JOB_ID: 'job_ecs_stalled',
      });
      let pid = 0;
      const done = ecs(env, (spawned) => {
        pid = spawned;
      });
      await waitFor(async () => (proxy.stalled > 0 ? true : undefined), 30_000, 'the S3 request');
      const signalled = Date.now();
      process.kill(pid, 'SIGTERM');
      const run = await done;
      expect(Date.now() - signalled).toBeLessThan(2000);
      expect(run.code).toBe(1);
      expect(run.result).toMatchObject({
        jobId: 'job_ecs_stalled',
        status: 'failed',
        failure: { code: 'cancelled', retryable: true, step: 'received' },
      });
      expect(run.result?.failure.message).toBe(
        'the worker was asked to stop (SIGTERM) while it read its payload; no job was started',
      );
    } finally {
      await proxy.close();
    }
  });

  describe('SIGTERM while the agent runs (ECS stops the task, a Spot interruption)', () => {
    /**
     * Starts the task, waits until `ready` finds the agent's process, sends SIGTERM, and
     * measures until the Result reached stdout and the platform.
     */
    async function stopTask(
      prompt: string,
      ready: (workRoot: string) => Promise<unknown>,
      extraEnv: Record<string, string> = {},
    ) {
      const { jobId, body } = payload(prompt);
      platform = await startPlatformStandIn({ token: callbackToken, jobId });
      const { env, workRoot } = await taskEnv({
        VIBERATOR_PAYLOAD: JSON.stringify({
          ...body,
          callback: { url: platform.url, token: callbackToken },
        }),
        VIBERATOR_JOB_ID: jobId,
        ...extraEnv,
      });
      // The default VIBERATOR_KILL_GRACE (10 s): the report must not wait for it.
      expect(env.VIBERATOR_KILL_GRACE).toBeUndefined();
      let pid = 0;
      const done = ecs(env, (spawned) => {
        pid = spawned;
      });
      await waitFor(() => ready(workRoot), 60_000, "the agent's process");
      const signalled = Date.now();
      process.kill(pid, 'SIGTERM');
      const run = await done;
      const exitedMs = Date.now() - signalled;
      const resultRequest = platform.requests.find((r) => r.route === 'result');
      const reportedMs = resultRequest ? resultRequest.at - signalled : undefined;
      const uid = Number(env.VIBERATOR_AGENT_USER?.split(':')[0]);
      return { run, exitedMs, reportedMs, uid, workRoot };
    }

    function expectCancelled(stopped: Awaited<ReturnType<typeof stopTask>>) {
      const { run, exitedMs, reportedMs } = stopped;
      if (process.env.SHOW_TIMINGS) console.log(`reported ${reportedMs} ms, exited ${exitedMs} ms`);
      expect(run.code).toBe(1);
      expect(run.result).toMatchObject({
        status: 'failed',
        failure: { code: 'cancelled', retryable: true, step: 'running_agent' },
      });
      expect(run.result?.failure.message).toMatch(/SIGTERM/);
      expect(run.result?.branch).toBeUndefined();
      expect(platform?.results).toEqual([run.result]);
      expect(reportedMs).toBeLessThan(10_000);
      expect(exitedMs).toBeLessThan(10_000);
      expectNoLeak(run);
    }

    it('a platform that stops answering: the Result is spooled to the log before ECS would kill the task', async () => {
      const stopped = await stopTask(
        'Do it.\n[[hang]]\n',
        async (workRoot) => {
          const agent = await claudeRunning(workRoot);
          if (agent) {
            platform?.hang('events');
            platform?.hang('result');
          }
          return agent;
        },
        { VIBERATOR_HEARTBEAT_INTERVAL: '1' },
      );
      const { run, exitedMs } = stopped;
      if (process.env.SHOW_TIMINGS) console.log(`spooled and exited after ${exitedMs} ms`);
      // ECS's default stopTimeout is 30 s; the default Result deadline (300 s) would outlast it.
      expect(exitedMs).toBeLessThan(25_000);
      expect(run.code).toBe(3);
      expect(run.result).toMatchObject({
        status: 'failed',
        failure: { code: 'cancelled', retryable: true, step: 'running_agent' },
      });
      expect(run.stderr).toContain('the Result could not be delivered to the platform');
      expect(run.stderr).toContain('spooled');
      expect(platform?.results).toEqual([]);
      expectNoLeak(run);
    });

    /** The Claude Code process of the job (its config dir is in the job's workspace). */
    const claudeRunning = async (workRoot: string) =>
      (await processesWithEnvMarker(workRoot)).find((p) => p.environ.CLAUDE_CONFIG_DIR);

    it('a model that never answers: cancelled (retryable) within 10 s, no agent process left', async () => {
      const stopped = await stopTask('Do it.\n[[hang]]\n', claudeRunning);
      expectCancelled(stopped);
      expect(await processesWithEnvMarker(stopped.workRoot)).toEqual([]);
      if (isRoot) expect(await processesOfUid(stopped.uid)).toEqual([]);
    });

    it('a command of the agent that ignores SIGTERM: killed, cancelled within 10 s, nothing left', async () => {
      const stopped = await stopTask(
        'Work slowly.\n[[bash]]\npython3 -c "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(120)"\n[[end]]\n[[write late.md]]\nlate\n[[end]]\n',
        async (workRoot) =>
          (await processesWithEnvMarker(workRoot)).find((p) =>
            p.cmdline.startsWith('python3 -c import signal'),
          ),
      );
      expectCancelled(stopped);
      expect(await processesWithEnvMarker(stopped.workRoot)).toEqual([]);
      if (isRoot) expect(await processesOfUid(stopped.uid)).toEqual([]);
    });

    it('an agent CLI that ignores SIGTERM: the 10 s kill grace does not delay the report', async () => {
      // The agent is untrusted, its CLI included: this one traps SIGTERM and never ends.
      const dir = await tempDir('viberator-ecs-stubborn-');
      await chmod(dir, 0o755);
      const cli = join(dir, 'stubborn-claude');
      await writeFile(cli, "#!/bin/sh\ntrap '' TERM\nwhile :; do sleep 1; done\n", {
        mode: 0o755,
      });
      const stopped = await stopTask(
        writePrompt('never.md', 'never'),
        async (workRoot) =>
          (await processesWithEnvMarker(workRoot)).find((p) => p.cmdline.includes(cli)),
        { VIBERATOR_AGENT_BIN_CLAUDE_CODE: cli },
      );
      expectCancelled(stopped);
      // SIGKILL came after the capped grace (3 s), not after VIBERATOR_KILL_GRACE's 10 s.
      expect(stopped.reportedMs).toBeGreaterThanOrEqual(2900);
      expect(await processesWithEnvMarker(stopped.workRoot)).toEqual([]);
      if (isRoot) expect(await processesOfUid(stopped.uid)).toEqual([]);
    });
  });
});
