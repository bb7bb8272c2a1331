import { access, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type CliRun, cliEnv, runCli, tempDir } from '../support/run-cli.js';

/**
 * Exit statuses of `viberator run` that do not need a git or model server: 2 for an invalid
 * payload wherever it is found and for an invalid worker environment, always with a Result.
 */

/** A local-mode research payload on a local path; nothing in these tests gets to clone it. */
function payload(jobId: string, patch: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    version: 1,
    jobId,
    template: 'ticket_research',
    prompt: 'Look around.',
    project: { id: 'proj_exit' },
    ticket: { id: 't_1', key: 'EXIT-1', title: 'Exit codes' },
    repository: { url: '/nonexistent/exit-codes-repo' },
    clanker: { id: 'clk_exit', name: 'exit-bot', agent: 'claude-code' },
    secrets: [{ name: 'ANTHROPIC_API_KEY' }],
    ...patch,
  };
}

const AGENT_KEY = 'sk-ant-exitcodes-planted-0123456789';

async function runPayload(body: unknown, extra: Record<string, string> = {}) {
  const workRoot = join(await tempDir('viberator-exit-'), 'work');
  const run = await runCli(['run', '--payload', '-'], {
    env: cliEnv({ VIBERATOR_WORK_ROOT: workRoot, ANTHROPIC_API_KEY: AGENT_KEY, ...extra }),
    stdin: JSON.stringify(body),
  });
  return { run, workRoot };
}

/** The refusal shape every exit-2 run shares: a Result on stdout, one plain line on stderr. */
function expectRefused(run: CliRun, jobId: string) {
  expect(run.code).toBe(2);
  expect(run.result?.jobId).toBe(jobId);
  expect(run.result?.status).toBe('failed');
  expect(run.stderr).not.toMatch(/^\s+at /m); // never a stack trace
}

describe('invalid_payload found by the core still exits 2', () => {
  it('a branch template whose placeholder has no value (the clanker has no name)', async () => {
    const body = payload('job_exit_branch', {
      project: { id: 'proj_exit', branchNameTemplate: 'viberator/{{ clanker }}' },
      clanker: { id: 'clk_exit', agent: 'claude-code' },
    });
    const { run } = await runPayload(body);
    expect(run.result?.failure).toMatchObject({
      code: 'invalid_payload',
      step: 'resolving_config',
      retryable: false,
    });
    expect(run.result?.failure?.message).toMatch(/\{\{ clanker \}\} has no usable value/);
    expect(run.code).toBe(2);
  });

  it("a skill file path that does not stay inside the skill's folder", async () => {
    const body = payload('job_exit_skill', {
      clanker: {
        id: 'clk_exit',
        agent: 'claude-code',
        skills: [{ name: 'notes', files: [{ path: '.', content: 'x' }] }],
      },
    });
    const { run } = await runPayload(body);
    expect(run.result?.failure).toMatchObject({ code: 'invalid_payload', retryable: false });
    expect(run.result?.failure?.message).toMatch(/leaves the skill's folder/);
    expect(run.code).toBe(2);
    expect(run.stdout).not.toContain(AGENT_KEY);
  });
});

describe('an invalid worker environment: a Result, one line on stderr, exit 2', () => {
  it('VIBERATOR_LOG_LEVEL=loud names the variable and what it allows; jobId from stdin', async () => {
    const { run, workRoot } = await runPayload(payload('job_exit_env'), {
      VIBERATOR_LOG_LEVEL: 'loud',
    });
    expectRefused(run, 'job_exit_env');
    expect(run.result?.failure).toEqual({
      code: 'internal_error',
      retryable: false,
      step: 'received',
      message: 'invalid environment: VIBERATOR_LOG_LEVEL must be one of error, warn, info, debug',
    });
    expect(run.stderr).toBe(`viberator: ${run.result?.failure?.message}\n`);
    await expect(access(workRoot)).rejects.toThrow();
  });

  it('VIBERATOR_KILL_GRACE=-1 with a payload file: jobId from the file, --result-file written', async () => {
    const dir = await tempDir('viberator-exit-env-');
    const file = join(dir, 'job.json');
    const resultFile = join(dir, 'result.json');
    await writeFile(file, JSON.stringify(payload('job_exit_grace')));
    const run = await runCli(['run', '--payload', file, '--result-file', resultFile], {
      env: cliEnv({ VIBERATOR_KILL_GRACE: '-1', VIBERATOR_AGENT_INACTIVITY_TIMEOUT: '1.5' }),
    });
    expectRefused(run, 'job_exit_grace');
    expect(run.result?.failure?.code).toBe('internal_error');
    expect(run.result?.failure?.message).toBe(
      'invalid environment: VIBERATOR_AGENT_INACTIVITY_TIMEOUT must be a whole number of seconds greater than 0; ' +
        'VIBERATOR_KILL_GRACE must be a number of seconds greater than 0',
    );
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('jobId "unknown" when no payload can be read', async () => {
    const run = await runCli(['run', '--payload', '/nonexistent/job.json'], {
      env: cliEnv({ VIBERATOR_S3_FORCE_PATH_STYLE: 'yes' }),
    });
    expectRefused(run, 'unknown');
    expect(run.result?.failure?.message).toBe(
      'invalid environment: VIBERATOR_S3_FORCE_PATH_STYLE must be true or false',
    );
  });
});

describe("payload.md: an env: ref may not name the worker's own variables", () => {
  it('a secret AWS_SECRET_ACCESS_KEY without a ref: invalid_payload, exit 2, nothing created', async () => {
    const awsSecret = `awsSecretPlanted${Date.now()}`;
    const body = payload('job_exit_aws', {
      secrets: [{ name: 'ANTHROPIC_API_KEY' }, { name: 'AWS_SECRET_ACCESS_KEY' }],
    });
    const { run, workRoot } = await runPayload(body, { AWS_SECRET_ACCESS_KEY: awsSecret });
    expectRefused(run, 'job_exit_aws');
    expect(run.result?.failure).toMatchObject({ code: 'invalid_payload', step: 'received' });
    expect(run.result?.failure?.message).toMatch(
      /secrets\[1\]\.ref: env:AWS_SECRET_ACCESS_KEY \(implied: ref is absent\) names the worker's own configuration or credentials/,
    );
    expect(run.stdout + run.stderr).not.toContain(awsSecret);
    await expect(access(workRoot)).rejects.toThrow();
  });
});
