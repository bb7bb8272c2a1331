import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalWorld, startLocalWorld } from '../support/local-world/local-world.js';
import { listBranches } from '../support/local-world/seed-repo.js';
import { executionPayload, writePrompt } from '../support/payloads.js';
import { cliEnv, plantedSecrets, runCli, tempDir } from '../support/run-cli.js';
import { type S3StandIn, startS3StandIn } from '../support/s3-stand-in.js';

describe('payloads from s3:// (s3rver, the real S3 protocol)', () => {
  const secrets = plantedSecrets();
  let world: LocalWorld;
  let s3: S3StandIn;
  let _endpoint: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    world = await startLocalWorld({ credentials: secrets });
    s3 = await startS3StandIn(['jobs']);
    _endpoint = s3.endpoint;
    env = cliEnv({
      VIBERATOR_WORK_ROOT: await tempDir('viberator-s3-work-'),
      ANTHROPIC_API_KEY: secrets.anthropicKey,
      GITHUB_TOKEN: secrets.githubToken,
      GITHUB_API_URL: world.github.apiUrl,
      ...s3.env,
    });
    const { client } = s3;
    const body = executionPayload({
      jobId: 'job_s3_1',
      repoUrl: world.repoUrl,
      modelUrl: world.model.url,
      prompt: 'Summarise the repository.\n[[answer]]\nA tiny demo app.\n[[end]]\n',
      overrides: { template: 'ticket_research' },
    });
    await client.send(
      new PutObjectCommand({
        Bucket: 'jobs',
        Key: 'job_s3_1/payload.json',
        Body: JSON.stringify(body),
      }),
    );
    await client.send(
      new PutObjectCommand({
        Bucket: 'jobs',
        Key: 'job_s3_2/payload.json',
        Body: JSON.stringify(
          executionPayload({
            jobId: 'job_s3_2',
            repoUrl: world.repoUrl,
            modelUrl: world.model.url,
            prompt: writePrompt('from-s3.md', 'written by a job from S3'),
            overrides: { ticket: { id: 't_s3', key: 'S3-2', title: 'A job from S3' } },
          }),
        ),
      }),
    );
    await client.send(
      new PutObjectCommand({
        Bucket: 'jobs',
        Key: 'broken.json',
        Body: '{"version":1,"jobId":"x"}',
      }),
    );
  });
  afterAll(async () => {
    await s3?.close();
    await world?.close();
  });

  it('runs the job the object describes', async () => {
    const run = await runCli(['run', '--payload', 's3://jobs/job_s3_1/payload.json'], { env });
    expect(run.result?.failure).toBeUndefined();
    expect(run.code).toBe(0);
    expect(run.result).toMatchObject({
      jobId: 'job_s3_1',
      status: 'completed',
      phase: 'research',
      document: 'A tiny demo app.',
    });
  });

  it('an execution job from S3: branch pushed, pull request opened, exit 0', async () => {
    const run = await runCli(['run', '--payload', 's3://jobs/job_s3_2/payload.json'], { env });
    expect(run.result?.failure).toBeUndefined();
    expect(run.code).toBe(0);
    expect(run.result).toMatchObject({
      jobId: 'job_s3_2',
      status: 'completed',
      phase: 'execution',
      branch: 'viberator/S3-2',
      changedFiles: 1,
    });
    expect(await listBranches(world.bareRepo)).toContain('viberator/S3-2');
    const pull = world.github.pulls.find((p) => p.head.ref === 'viberator/S3-2');
    expect(pull?.html_url).toBe(run.result?.prUrl);
    for (const secret of [secrets.githubToken, secrets.anthropicKey])
      expect(`${run.stdout}${run.stderr}`).not.toContain(secret);
  });

  it('a missing object is invalid_payload, exit 2', async () => {
    const run = await runCli(['run', '--payload', 's3://jobs/nope.json'], { env });
    expect(run.code).toBe(2);
    expect(run.result?.failure).toMatchObject({
      code: 'invalid_payload',
      step: 'received',
      retryable: false,
    });
    expect(run.result?.failure?.message).toMatch(
      /could not read s3:\/\/jobs\/nope\.json: .*(NoSuchKey|does not exist)/,
    );
  });

  it('an object that fails validation lists its problems', async () => {
    const run = await runCli(['run', '--payload', 's3://jobs/broken.json'], { env });
    expect(run.code).toBe(2);
    expect(run.result?.failure?.message).toMatch(
      /template: .*; prompt: is required; project: is required; repository: is required/,
    );
  });
});
