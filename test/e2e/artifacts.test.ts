import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalWorld, startLocalWorld } from '../support/local-world/local-world.js';
import { executionPayload, writePrompt } from '../support/payloads.js';
import { cliEnv, plantedSecrets, runCli, tempDir } from '../support/run-cli.js';
import { type S3StandIn, startS3StandIn } from '../support/s3-stand-in.js';

/** `artifacts.s3Uri`: the transcript and the agent's raw log land in S3 (s3rver), redacted. */
describe('artifacts', () => {
  const secrets = plantedSecrets();
  let world: LocalWorld;
  let s3: S3StandIn;
  let client: S3Client;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    world = await startLocalWorld({ credentials: secrets });
    s3 = await startS3StandIn(['acme-viberator']);
    client = s3.client;
    env = cliEnv({
      VIBERATOR_WORK_ROOT: await tempDir('viberator-artifacts-work-'),
      ANTHROPIC_API_KEY: secrets.anthropicKey,
      GITHUB_TOKEN: secrets.githubToken,
      GITHUB_API_URL: world.github.apiUrl,
      ...s3.env,
    });
  });
  afterAll(async () => {
    await Promise.allSettled([world?.close(), s3?.close()]);
  });

  async function read(uri: string): Promise<string> {
    const match = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri);
    const answer = await client.send(
      new GetObjectCommand({ Bucket: match?.[1] ?? '', Key: match?.[2] ?? '' }),
    );
    return (await answer.Body?.transformToString('utf8')) ?? '';
  }

  it('uploads transcript.jsonl and agent.log, lists them in the Result, and leaks nothing', async () => {
    // The agent echoes the key it holds (the job gateway's): the raw log must not carry it.
    const prompt = `${writePrompt('notes.md', 'artifact job')}[[bash]]\necho "key is $ANTHROPIC_API_KEY"\n[[end]]\n`;
    const run = await runCli(['run', '--payload', '-'], {
      env,
      stdin: JSON.stringify(
        executionPayload({
          jobId: 'job_artifacts',
          repoUrl: world.repoUrl,
          modelUrl: world.model.url,
          prompt,
          overrides: { artifacts: { s3Uri: 's3://acme-viberator/jobs/job_artifacts/' } },
        }),
      ),
    });
    expect(run.result?.failure).toBeUndefined();
    expect(run.result?.artifacts).toEqual([
      's3://acme-viberator/jobs/job_artifacts/transcript.jsonl',
      's3://acme-viberator/jobs/job_artifacts/agent.log',
    ]);
    const transcript = await read(run.result?.artifacts?.[0] ?? '');
    const events = transcript
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { seq: number; type: string });
    expect(events.map((event) => event.seq)).toEqual(events.map((_, i) => i + 1));
    expect(events.some((event) => event.type === 'agent.tool_call')).toBe(true);
    const log = await read(run.result?.artifacts?.[1] ?? '');
    expect(log).toContain('"type":"result"');
    expect(log).toContain('key is [REDACTED]');
    for (const text of [transcript, log]) {
      for (const secret of [secrets.anthropicKey, secrets.githubToken])
        expect(text).not.toContain(secret);
    }
  });
});
