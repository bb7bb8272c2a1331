import { execFile } from 'node:child_process';
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureAgentThenCancel } from '../support/agent-process.js';
import { type LocalWorld, startLocalWorld } from '../support/local-world/local-world.js';
import { executionPayload, writePrompt } from '../support/payloads.js';
import { cliEnv, plantedSecrets, runCli, tempDir } from '../support/run-cli.js';

const exec = promisify(execFile);

/** Every form a planted secret could leak in: raw, URL-encoded, inside Basic credentials. */
function leakForms(secret: string): string[] {
  return [
    secret,
    encodeURIComponent(secret),
    Buffer.from(`x-access-token:${secret}`).toString('base64'),
  ];
}

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await filesUnder(path)));
    else if (entry.isFile()) out.push(path);
  }
  return out;
}

describe('planted secrets never leak', () => {
  const secrets = plantedSecrets();
  const aws = {
    AWS_ACCESS_KEY_ID: 'AKIAPLANTED0000TEST',
    AWS_SECRET_ACCESS_KEY: `awsSecretPlanted${Date.now()}`,
    AWS_SESSION_TOKEN: `awsSessionPlanted${Date.now()}`,
  };
  const planted = [
    secrets.githubToken,
    secrets.anthropicKey,
    aws.AWS_SECRET_ACCESS_KEY,
    aws.AWS_SESSION_TOKEN,
  ];
  let world: LocalWorld;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    world = await startLocalWorld({ credentials: secrets });
    env = cliEnv({
      GITHUB_API_URL: world.github.apiUrl,
      ANTHROPIC_API_KEY: secrets.anthropicKey,
      GITHUB_TOKEN: secrets.githubToken,
      VIBERATOR_LOG_LEVEL: 'debug',
      ...aws,
    });
  });
  afterAll(async () => world?.close());

  it('not in stdout, stderr, events, Result, git history, PR body or the kept workspace', async () => {
    const workRoot = await tempDir('viberator-secret-work-');
    // The agent's answer carries the Anthropic key, so redaction of agent output, of the
    // Result's document and of the PR body is exercised too.
    const prompt = writePrompt(
      'notes.txt',
      'plain notes',
      `I used ${secrets.anthropicKey} and wrote notes.txt`,
    );
    const run = await runCli(
      ['run', '--payload', '-', '--keep-workspace', '--result-file', join(workRoot, 'result.json')],
      {
        env: { ...env, VIBERATOR_WORK_ROOT: workRoot },
        stdin: JSON.stringify(
          executionPayload({
            jobId: 'job_secrets',
            repoUrl: world.repoUrl,
            modelUrl: world.model.url,
            prompt,
          }),
        ),
      },
    );
    expect(run.code).toBe(0);
    expect(run.stderr).toContain('[REDACTED]');
    // The logs (JSON lines on stderr at debug level) are among what is searched.
    const logLines = run.stderr.split('\n').filter((line) => line.startsWith('{'));
    expect(logLines.map((line) => JSON.parse(line).message)).toEqual(
      expect.arrayContaining(['job started', 'step completed', 'job completed']),
    );
    const surfaces: Record<string, string> = {
      stdout: run.stdout,
      stderr: run.stderr,
      resultFile: await readFile(join(workRoot, 'result.json'), 'utf8'),
      prBodies: JSON.stringify(world.github.pulls),
      githubRequests: JSON.stringify(world.github.requests),
    };
    const { stdout: history } = await exec('git', [
      '--git-dir',
      world.bareRepo,
      'log',
      '--all',
      '--format=%H %an %ae %B',
    ]);
    surfaces.commitMessages = history;
    for (const [name, text] of Object.entries(surfaces)) {
      for (const secret of planted) {
        for (const form of leakForms(secret))
          expect(text.includes(form), `${name} holds a planted secret`).toBe(false);
      }
    }
    // No planted secret in any object of the repository.
    const { stdout: objects } = await exec(
      'git',
      ['--git-dir', world.bareRepo, 'cat-file', '--batch-all-objects', '--batch'],
      { maxBuffer: 64 * 1024 * 1024 },
    );
    for (const secret of planted) expect(objects).not.toContain(secret);

    // The kept workspace: private, and no file in it holds a planted secret (the CLI's own
    // state and config included).
    const jobDir = join(workRoot, 'job_secrets');
    expect((await stat(jobDir)).mode & 0o777).toBe(process.getuid?.() === 0 ? 0o710 : 0o700);
    const files = await filesUnder(jobDir);
    expect(files.some((file) => file.endsWith('.git/config'))).toBe(true);
    for (const file of files) {
      const text = await readFile(file, 'latin1');
      for (const secret of planted) {
        for (const form of leakForms(secret))
          expect(text.includes(form), `${file} holds a planted secret`).toBe(false);
      }
    }
    const gitConfig = await readFile(join(jobDir, 'repo', '.git', 'config'), 'utf8');
    expect(gitConfig).not.toMatch(/extraheader|Authorization|@127\.0\.0\.1/i);
    await rm(workRoot, { recursive: true, force: true });
  });

  it('refuses to push when the agent wrote a secret into the repository', async () => {
    const workRoot = await tempDir('viberator-secret-push-');
    const run = await runCli(['run', '--payload', '-'], {
      env: { ...env, VIBERATOR_WORK_ROOT: workRoot },
      stdin: JSON.stringify(
        executionPayload({
          jobId: 'job_secret_push',
          repoUrl: world.repoUrl,
          modelUrl: world.model.url,
          prompt: writePrompt('config/keys.env', `ANTHROPIC_API_KEY=${secrets.anthropicKey}`),
        }),
      ),
    });
    expect(run.result?.failure).toMatchObject({
      code: 'push_failed',
      retryable: false,
      step: 'pushing',
    });
    expect(run.result?.failure?.message).toContain(
      'the change contains the value of secret ANTHROPIC_API_KEY (in "config/keys.env")',
    );
    expect(run.stdout + run.stderr).not.toContain(secrets.anthropicKey);
    const { stdout: objects } = await exec(
      'git',
      ['--git-dir', world.bareRepo, 'cat-file', '--batch-all-objects', '--batch'],
      { maxBuffer: 64 * 1024 * 1024 },
    );
    expect(objects).not.toContain(secrets.anthropicKey);
    expect(await readdir(workRoot)).toEqual([]);
  });

  it("the agent's environment holds neither the model key, GITHUB_TOKEN nor the worker's AWS credentials", async () => {
    const workRoot = await tempDir('viberator-agent-env-');
    const { agent } = await captureAgentThenCancel(
      executionPayload({
        jobId: 'job_agent_env',
        repoUrl: world.repoUrl,
        modelUrl: world.model.url,
        prompt: 'Wait.\n[[hang]]\n',
      }),
      { ...env, VIBERATOR_WORK_ROOT: workRoot },
    );
    // The model key's variable holds the job gateway's key; the gateway holds the real one.
    expect(agent.environ.ANTHROPIC_API_KEY).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(agent.environ.ANTHROPIC_BASE_URL).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(agent.environ.HOME?.startsWith(workRoot)).toBe(true);
    expect(agent.environ.CLAUDE_CONFIG_DIR?.startsWith(workRoot)).toBe(true);
    const names = Object.keys(agent.environ);
    for (const name of [
      'GITHUB_TOKEN',
      'AWS_ACCESS_KEY_ID',
      'AWS_SECRET_ACCESS_KEY',
      'AWS_SESSION_TOKEN',
      'VIBERATOR_LOG_LEVEL',
      'GITHUB_API_URL',
    ]) {
      expect(names).not.toContain(name);
    }
    const values = Object.values(agent.environ).join('\n');
    for (const secret of [
      secrets.anthropicKey,
      secrets.githubToken,
      aws.AWS_SECRET_ACCESS_KEY,
      aws.AWS_SESSION_TOKEN,
    ])
      expect(values).not.toContain(secret);
    // Nor can it find the token in the checkout's git config or the command lines around it.
    expect(agent.cmdline).not.toContain(secrets.anthropicKey);
    await rm(workRoot, { recursive: true, force: true });
  });

  it('GITHUB_TOKEN reaches the agent only with exposeToAgent: true', async () => {
    const workRoot = await tempDir('viberator-agent-expose-');
    const body = executionPayload({
      jobId: 'job_agent_expose',
      repoUrl: world.repoUrl,
      modelUrl: world.model.url,
      prompt: 'Wait.\n[[hang]]\n',
    });
    body.secrets = [{ name: 'ANTHROPIC_API_KEY' }, { name: 'GITHUB_TOKEN', exposeToAgent: true }];
    const { agent, run } = await captureAgentThenCancel(body, {
      ...env,
      VIBERATOR_WORK_ROOT: workRoot,
    });
    expect(agent.environ.GITHUB_TOKEN).toBe(secrets.githubToken);
    expect(run.stdout + run.stderr).not.toContain(secrets.githubToken);
    await rm(workRoot, { recursive: true, force: true });
  });
});
