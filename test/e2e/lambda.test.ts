import { execFile } from 'node:child_process';
import { chmod, chown, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type InvocationOutcome,
  type LambdaProcess,
  type RuntimeApi,
  startLambdaProcess,
  startRuntimeApi,
} from '../support/lambda-runtime-api.js';
import { type LocalWorld, startLocalWorld } from '../support/local-world/local-world.js';
import { readBranch } from '../support/local-world/seed-repo.js';
import { executionPayload, writePrompt } from '../support/payloads.js';
import { processesOfUid } from '../support/processes.js';
import { plantedSecrets, tempDir, uniqueAgentUser } from '../support/run-cli.js';
import { type S3StandIn, startS3StandIn } from '../support/s3-stand-in.js';

const exec = promisify(execFile);

/**
 * The built handler (`dist/lambda.js`) in the real `aws-lambda-ric`, against a Runtime API
 * stand-in on 127.0.0.1, laid out as Lambda runs it: an unprivileged user that owns nothing
 * but a directory under /tmp, HOME pointing nowhere writable, the code read-only to it.
 */
describe('the Lambda handler in the real runtime interface client', () => {
  const secrets = plantedSecrets();
  const root = process.getuid?.() === 0;
  // Lambda's user: a uid of this run's range (never another run's agent user), when root.
  const uid = root
    ? Number((uniqueAgentUser().VIBERATOR_AGENT_USER ?? '').split(':')[0])
    : (process.getuid?.() ?? 0);
  const prefix = root
    ? ['setpriv', `--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', '--']
    : [];
  let world: LocalWorld;
  let api: RuntimeApi;
  let s3: S3StandIn;
  let s3Endpoint: string;
  let tmp: string;
  let lambda: LambdaProcess | undefined;

  beforeAll(async () => {
    world = await startLocalWorld({ credentials: secrets });
    api = await startRuntimeApi();
    s3 = await startS3StandIn(['jobs']);
    s3Endpoint = s3.endpoint;
  });
  afterEach(async () => {
    await lambda?.stop();
    lambda = undefined;
  });
  afterAll(async () => {
    await api?.close();
    await s3?.close();
    await world?.close();
  });

  /** A fresh /tmp directory of the function's user, as Lambda's /tmp is. */
  async function functionTmp(): Promise<string> {
    tmp = await tempDir('viberator-lambda-tmp-');
    if (root) await chown(tmp, uid, uid);
    await chmod(tmp, 0o700);
    return tmp;
  }

  /** Starts the runtime (a cold start) with the function's environment. */
  async function start(extra: Record<string, string> = {}): Promise<string> {
    const dir = await functionTmp();
    const workRoot = join(dir, 'viberator-work');
    lambda = startLambdaProcess(
      api,
      {
        PATH: process.env.PATH ?? '',
        LANG: 'C.UTF-8',
        // Nothing may be written to HOME: Lambda's file system is read-only outside /tmp.
        HOME: '/nonexistent',
        VIBERATOR_WORK_ROOT: workRoot,
        // Set in an image that serves ECS too; Lambda's user cannot switch, so it is ignored.
        VIBERATOR_AGENT_USER: 'viberator-agent',
        GITHUB_API_URL: world.github.apiUrl,
        ANTHROPIC_API_KEY: secrets.anthropicKey,
        GITHUB_TOKEN: secrets.githubToken,
        AWS_ENDPOINT_URL_S3: s3Endpoint,
        AWS_ACCESS_KEY_ID: 'S3RVER',
        AWS_SECRET_ACCESS_KEY: 'S3RVER',
        VIBERATOR_S3_FORCE_PATH_STYLE: 'true',
        VIBERATOR_KILL_GRACE: '1',
        ...extra,
      },
      prefix,
    );
    return workRoot;
  }

  const payload = (jobId: string, prompt: string, overrides: Record<string, unknown> = {}) =>
    executionPayload({
      jobId,
      repoUrl: world.repoUrl,
      modelUrl: world.model.url,
      prompt,
      overrides,
    });

  async function putObject(key: string, body: string): Promise<void> {
    await s3.client.send(new PutObjectCommand({ Bucket: 'jobs', Key: key, Body: body }));
  }

  /** The Result the runtime posted as the invocation's response. */
  function resultOf(outcome: InvocationOutcome): Record<string, any> {
    expect(outcome.kind, JSON.stringify(outcome.body)).toBe('response');
    return outcome.body as Record<string, any>;
  }

  /** Live processes of the function's user other than the runtime itself. */
  async function strayProcesses(): Promise<number[]> {
    if (!root) return [];
    return (await processesOfUid(uid)).filter((pid) => pid !== lambda?.child.pid);
  }

  async function entries(dir: string): Promise<string[]> {
    return readdir(dir).catch(() => []);
  }

  it('runs an execution job and returns the Result: pushed, pull request opened', async () => {
    const workRoot = await start();
    const outcome = await api.invoke(
      payload('job_lambda_1', writePrompt('src/login.js', "export const to = '/home';")),
    );
    const result = resultOf(outcome);
    expect(result.failure).toBeUndefined();
    expect(result).toMatchObject({
      jobId: 'job_lambda_1',
      status: 'completed',
      phase: 'execution',
      agent: 'claude-code',
      branch: 'viberator/ENG-42',
      changedFiles: 1,
      prNumber: 1,
    });
    const branch = await readBranch(world.bareRepo, 'viberator/ENG-42');
    expect(branch?.sha).toBe(result.commitSha);
    expect(world.github.pulls.at(-1)?.html_url).toBe(result.prUrl);
    // Nothing of the job is left: its workspace, its processes.
    expect(await entries(workRoot)).toEqual([]);
    expect(await strayProcesses()).toEqual([]);
    const log = lambda?.output() ?? '';
    expect(log).toContain('same-user mode (reduced isolation)');
    expect(log).toContain('VIBERATOR_AGENT_USER=viberator-agent is ignored in Lambda');
    for (const secret of [secrets.githubToken, secrets.anthropicKey]) {
      expect(log).not.toContain(secret);
      expect(JSON.stringify(result)).not.toContain(secret);
    }
  });

  it('an invalid event is a Result with invalid_payload, not a function error; nothing is created', async () => {
    const workRoot = await start();
    const broken = resultOf(await api.invoke({ version: 1, jobId: 'job_lambda_bad' }));
    expect(broken).toMatchObject({
      jobId: 'job_lambda_bad',
      status: 'failed',
      failure: { code: 'invalid_payload', retryable: false, step: 'received' },
    });
    expect(broken.failure.message).toMatch(
      /template: .*; prompt: is required; project: is required; repository: is required/,
    );

    const local = resultOf(await api.invoke({ payloadUri: '/etc/passwd' }));
    expect(local).toMatchObject({ jobId: 'unknown', failure: { code: 'invalid_payload' } });
    expect(local.failure.message).toContain('payloadUri: must be an s3://bucket/key URI');

    const missing = resultOf(
      await api.invoke({ payloadUri: 's3://jobs/nowhere.json', jobId: 'job_lambda_lost' }),
    );
    expect(missing).toMatchObject({
      jobId: 'job_lambda_lost',
      failure: { code: 'invalid_payload', step: 'received' },
    });
    expect(missing.failure.message).toMatch(/could not read s3:\/\/jobs\/nowhere\.json/);

    await putObject('broken.json', '{"version":1,"jobId":"job_lambda_broken"}');
    const object = resultOf(await api.invoke({ payloadUri: 's3://jobs/broken.json' }));
    expect(object).toMatchObject({
      jobId: 'job_lambda_broken',
      failure: { code: 'invalid_payload', step: 'received' },
    });
    expect(object.failure.message).toMatch(/prompt: is required; project: is required/);

    const text = resultOf(await api.invoke('not json at all'));
    expect(text.failure).toMatchObject({ code: 'invalid_payload' });

    // The runtime lives on and asks for the next invocation; nothing reached the disk.
    expect(lambda?.child.exitCode).toBeNull();
    expect(api.initErrors).toEqual([]);
    expect(await entries(tmp)).toEqual([]);
    expect(await entries(workRoot)).toEqual([]);
  });

  it('a handler the runtime cannot load is an init error for Lambda, not a Result', async () => {
    // What a broken image (a wrong CMD, a missing build) looks like to the platform: the
    // runtime reports the error to Lambda and takes no invocation.
    await start({ _HANDLER: 'dist/lambda.notTheHandler' });
    const until = Date.now() + 20_000;
    while (api.initErrors.length === 0 && Date.now() < until) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(api.initErrors).toHaveLength(1);
    expect(JSON.stringify(api.initErrors[0])).toMatch(/HandlerNotFound|notTheHandler/);
  });

  it('a short deadline stops the agent with agent_timeout before Lambda would', async () => {
    const workRoot = await start();
    const timeoutMs = 12_000;
    const started = Date.now();
    const outcome = await api.invoke(payload('job_lambda_deadline', 'Do it.\n[[hang]]\n'), {
      timeoutMs,
    });
    const result = resultOf(outcome);
    expect(result).toMatchObject({
      jobId: 'job_lambda_deadline',
      status: 'failed',
      failure: { code: 'agent_timeout', retryable: true, step: 'running_agent' },
    });
    expect(result.failure.message).toMatch(
      /ran longer than the limit of \d+ s \(the invocation's remaining time less the safety margin\)/,
    );
    // The margin of a 12 s invocation is a quarter of it: 3 s. The Result came before the
    // deadline, and not long before: the agent had the time up to the margin.
    expect(outcome.at).toBeLessThan(outcome.deadline);
    expect(outcome.at - started).toBeGreaterThan(timeoutMs - 3_000 - 500);
    expect(await strayProcesses()).toEqual([]);
    expect(await entries(workRoot)).toEqual([]);
  });

  it('reads { payloadUri } from S3 (s3rver)', async () => {
    await start();
    await putObject(
      'job_lambda_s3/payload.json',
      JSON.stringify(
        payload(
          'job_lambda_s3',
          'Summarise the repository.\n[[answer]]\nA tiny demo app.\n[[end]]\n',
          {
            template: 'ticket_research',
          },
        ),
      ),
    );
    const result = resultOf(
      await api.invoke({ payloadUri: 's3://jobs/job_lambda_s3/payload.json' }),
    );
    expect(result.failure).toBeUndefined();
    expect(result).toMatchObject({
      jobId: 'job_lambda_s3',
      status: 'completed',
      phase: 'research',
      document: 'A tiny demo app.',
    });
  });

  it('two invocations in one warm process: the second has no state of the first', async () => {
    const firstSecret = `first-job-secret-${Date.now()}`;
    const workRoot = await start({ FIRST_JOB_SECRET: firstSecret });
    const pid = lambda?.child.pid;
    const first = resultOf(
      await api.invoke(
        payload('job_lambda_warm_a', writePrompt('a.txt', 'first job'), {
          ticket: { id: 't_50', key: 'ENG-50', title: 'First' },
          secrets: [
            { name: 'ANTHROPIC_API_KEY' },
            { name: 'GITHUB_TOKEN' },
            { name: 'FIRST_JOB_SECRET', ref: 'env:FIRST_JOB_SECRET' },
          ],
        }),
      ),
    );
    expect(first).toMatchObject({ jobId: 'job_lambda_warm_a', status: 'completed' });
    expect(await entries(workRoot)).toEqual([]);
    expect(await strayProcesses()).toEqual([]);

    // The second job's agent writes down the environment and home it was given (less its
    // model key, which the push would rightly refuse to carry).
    const second = resultOf(
      await api.invoke(
        payload(
          'job_lambda_warm_b',
          'Record the environment.\n[[bash]]\nenv | grep -v ^ANTHROPIC_API_KEY= | sort > agent-env.txt\n[[end]]\n[[write b.txt]]\nsecond job\n[[end]]\n',
          { ticket: { id: 't_51', key: 'ENG-51', title: 'Second' } },
        ),
      ),
    );
    expect(second.failure).toBeUndefined();
    expect(second).toMatchObject({
      jobId: 'job_lambda_warm_b',
      status: 'completed',
      branch: 'viberator/ENG-51',
      changedFiles: 2,
    });
    expect(lambda?.child.pid).toBe(pid);
    expect(lambda?.child.exitCode).toBeNull();

    const branch = await readBranch(world.bareRepo, 'viberator/ENG-51');
    expect(branch?.files).not.toContain('a.txt');
    const { stdout: agentEnv } = await exec('git', [
      '--git-dir',
      world.bareRepo,
      'show',
      'viberator/ENG-51:agent-env.txt',
    ]);
    // HOME and TMPDIR in the second job's workspace under /tmp; nothing of the first job.
    expect(agentEnv).toMatch(new RegExp(`^HOME=${workRoot}/job_lambda_warm_b/`, 'm'));
    expect(agentEnv).toMatch(new RegExp(`^TMPDIR=${workRoot}/job_lambda_warm_b/`, 'm'));
    expect(agentEnv).not.toContain('job_lambda_warm_a');
    expect(agentEnv).not.toContain(firstSecret);
    expect(agentEnv).not.toContain(secrets.githubToken);
    expect(agentEnv).not.toContain(secrets.anthropicKey);

    // Reduced isolation is stated once per container, not once per job; no listener piles up.
    const log = lambda?.output() ?? '';
    expect(log.split('same-user mode (reduced isolation)').length - 1).toBe(1);
    expect(log).not.toContain('MaxListenersExceededWarning');
    expect(await entries(workRoot)).toEqual([]);
    expect(await strayProcesses()).toEqual([]);
  });
});
