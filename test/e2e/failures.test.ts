import { access, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureAgentThenCancel } from '../support/agent-process.js';
import { type LocalWorld, startLocalWorld } from '../support/local-world/local-world.js';
import { listBranches, protectBranch } from '../support/local-world/seed-repo.js';
import { executionPayload, writePrompt } from '../support/payloads.js';
import { processesWithEnvMarker } from '../support/processes.js';
import { type CliRun, plantedSecrets, runCli, tempDir, worldEnv } from '../support/run-cli.js';

/** Asserts the Result's failure and the exit code, and that no planted secret leaked. */
function expectFailure(
  run: CliRun,
  failure: { code: string; retryable: boolean; step: string; message: RegExp },
  secrets: string[],
) {
  if (process.env.SHOW_FAILURES) console.log(JSON.stringify(run.result?.failure));
  expect(run.result?.status).toBe('failed');
  expect(run.result?.failure).toMatchObject({
    code: failure.code,
    retryable: failure.retryable,
    step: failure.step,
  });
  expect(run.result?.failure?.message).toMatch(failure.message);
  expect(run.code).toBe(failure.code === 'invalid_payload' ? 2 : 1);
  if (failure.code !== 'invalid_payload')
    expect(run.progress.some((line) => line.startsWith(`viberator: ${failure.step} failed`))).toBe(
      true,
    );
  for (const secret of secrets) {
    expect(run.stdout).not.toContain(secret);
    expect(run.stderr).not.toContain(secret);
  }
}

describe('every failure code, triggered for real', () => {
  const secrets = plantedSecrets();
  const planted = [secrets.githubToken, secrets.anthropicKey];
  let world: LocalWorld;
  let workRoot: string;
  let env: NodeJS.ProcessEnv;
  let counter = 0;

  beforeAll(async () => {
    world = await startLocalWorld({ credentials: secrets });
    workRoot = await tempDir('viberator-fail-work-');
    env = worldEnv(world, workRoot);
  });
  afterAll(async () => world?.close());

  /** A payload with its own jobId and ticket (so its own branch), `patch` merged on top. */
  const payload = (prompt: string, patch: Record<string, unknown> = {}) => {
    counter += 1;
    const base = executionPayload({
      jobId: `job_fail_${counter}`,
      repoUrl: world.repoUrl,
      modelUrl: world.model.url,
      prompt,
    });
    return {
      ...base,
      ticket: { id: `t_${counter}`, key: `FAIL-${counter}`, title: 'Failure case' },
      ...patch,
    };
  };
  const run = (body: unknown, extraEnv: Record<string, string> = {}) =>
    runCli(['run', '--payload', '-'], {
      env: { ...env, ...extraEnv },
      stdin: JSON.stringify(body),
    });

  describe('invalid_payload: exit 2, every problem with its JSON path, nothing on disk, no request', () => {
    const untouched = async (
      before: { git: number; github: number; model: number },
      root: string,
    ) => {
      expect(world.git.requests.length).toBe(before.git);
      expect(world.github.requests.length).toBe(before.github);
      expect(world.model.requests.length).toBe(before.model);
      await expect(access(root)).rejects.toThrow();
    };
    const counts = () => ({
      git: world.git.requests.length,
      github: world.github.requests.length,
      model: world.model.requests.length,
    });
    const cases: Array<[string, (p: Record<string, any>) => unknown, RegExp]> = [
      ['a traversal jobId', (p) => ({ ...p, jobId: '../../etc' }), /jobId: must match/],
      [
        'an unknown placeholder',
        (p) => ({ ...p, project: { id: 'x', branchNameTemplate: 'vib/{{ sprint }}' } }),
        /project\.branchNameTemplate: unknown placeholder \{\{ sprint \}\}/,
      ],
      [
        'shell metacharacters in the ticket key',
        (p) => ({ ...p, ticket: { id: 't', key: 'ENG-1; rm -rf ~', title: 'x' } }),
        /ticket\.key: must not contain shell metacharacters/,
      ],
      [
        'several problems at once',
        (p) => ({
          ...p,
          version: 2,
          prompt: '',
          repository: { url: 'ftp://example.com/a.git' },
          secrets: [{ name: 'X', ref: 'vault:x' }],
        }),
        /version: .*; prompt: must not be empty; secrets\[0\]\.ref: must be env:NAME, platform:KEY or ssm:\/parameter\/path; repository\.url: unsupported scheme ftp:/,
      ],
      ['a missing required field', (p) => ({ ...p, project: undefined }), /project: is required/],
      [
        'a ticket template without a ticket',
        (p) => ({ ...p, ticket: undefined }),
        /ticket: is required for template ticket_developing/,
      ],
      [
        'a local path with a callback',
        (p) => ({
          ...p,
          repository: { url: '/srv/repo' },
          callback: { url: 'https://platform.example/api', token: 'cb_x' },
        }),
        /repository\.url: a local path or file:\/\/ URL is allowed only in local mode/,
      ],
      [
        'plain http to a remote host',
        (p) => ({ ...p, repository: { url: 'http://git.example.com/a/b.git' } }),
        /repository\.url: http is allowed only for loopback hosts/,
      ],
    ];
    for (const [name, mutate, message] of cases) {
      it(name, async () => {
        const before = counts();
        const root = join(await tempDir('viberator-invalid-'), 'work');
        const body = mutate(payload('x')) as { jobId: string };
        const result = await run(body, { VIBERATOR_WORK_ROOT: root });
        expectFailure(
          result,
          { code: 'invalid_payload', retryable: false, step: 'received', message },
          planted,
        );
        // The Result still names the job, whatever its jobId was.
        expect(result.result?.jobId).toBe(body.jobId);
        expect(result.stderr).toMatch(message);
        await untouched(before, root);
      });
    }
    it('text that is not JSON', async () => {
      const result = await runCli(['run', '--payload', '-'], { env, stdin: '{"version": 1,' });
      expectFailure(
        result,
        {
          code: 'invalid_payload',
          retryable: false,
          step: 'received',
          message: /stdin is not valid JSON/,
        },
        planted,
      );
    });
    it('a payload file that does not exist', async () => {
      const result = await runCli(['run', '--payload', '/nonexistent/payload.json'], { env });
      expectFailure(
        result,
        {
          code: 'invalid_payload',
          retryable: false,
          step: 'received',
          message: /could not read \/nonexistent\/payload\.json/,
        },
        planted,
      );
    });
  });

  it('config_unavailable for a clankerId in local mode: nothing to look it up from', async () => {
    const body: Record<string, unknown> = {
      ...payload(writePrompt('a.txt', 'a')),
      clankerId: 'clk_remote',
    };
    delete body.clanker;
    const result = await run(body);
    expectFailure(
      result,
      {
        code: 'config_unavailable',
        retryable: false,
        step: 'resolving_config',
        message:
          /clanker clk_remote cannot be looked up without a platform callback; give the clanker inline/,
      },
      planted,
    );
  });

  it('missing_secret names every missing secret, never a value', async () => {
    const body = payload(writePrompt('a.txt', 'a'), {
      secrets: [
        { name: 'ANTHROPIC_API_KEY' },
        { name: 'GITHUB_TOKEN' },
        { name: 'SENTRY_TOKEN', ref: 'env:SENTRY_DSN_TOKEN' },
      ],
    });
    const result = await run(body, { ANTHROPIC_API_KEY: '' });
    expectFailure(
      result,
      {
        code: 'missing_secret',
        retryable: false,
        step: 'fetching_credentials',
        message:
          /secret ANTHROPIC_API_KEY \(env:ANTHROPIC_API_KEY\) was not found; secret SENTRY_TOKEN \(env:SENTRY_DSN_TOKEN\) was not found/,
      },
      planted,
    );
  });

  it('missing_secret when the agent key is not in the payload at all', async () => {
    const result = await run(
      payload(writePrompt('a.txt', 'a'), { secrets: [{ name: 'GITHUB_TOKEN' }] }),
    );
    expectFailure(
      result,
      {
        code: 'missing_secret',
        retryable: false,
        step: 'fetching_credentials',
        message: /Claude Code needs ANTHROPIC_API_KEY or CLAUDE_CODE_OAUTH_TOKEN/,
      },
      planted,
    );
  });

  it('agent_unavailable when the CLI is not there', async () => {
    const result = await run(payload(writePrompt('a.txt', 'a')), {
      VIBERATOR_AGENT_BIN_CLAUDE_CODE: '/nonexistent/bin/claude',
    });
    expectFailure(
      result,
      {
        code: 'agent_unavailable',
        retryable: false,
        step: 'initialising_agent',
        message:
          /VIBERATOR_AGENT_BIN_CLAUDE_CODE=\/nonexistent\/bin\/claude is not an executable file/,
      },
      planted,
    );
  });

  it('internal_error, not retryable, when the work root cannot hold a workspace', async () => {
    const file = join(await tempDir('viberator-workroot-'), 'not-a-directory');
    await writeFile(file, 'x');
    const result = await run(payload(writePrompt('a.txt', 'a')), { VIBERATOR_WORK_ROOT: file });
    expectFailure(
      result,
      {
        code: 'internal_error',
        retryable: false,
        step: 'initialising_agent',
        message:
          /cannot create the job workspace .*check that VIBERATOR_WORK_ROOT \(.*not-a-directory\) is a writable directory/,
      },
      planted,
    );
  });

  it('clone_failed with a wrong token: not retryable, names the credential, token nowhere', async () => {
    const wrongToken = plantedSecrets().githubToken;
    const result = await run(payload(writePrompt('a.txt', 'a')), { GITHUB_TOKEN: wrongToken });
    expectFailure(
      result,
      {
        code: 'clone_failed',
        retryable: false,
        step: 'cloning',
        message: /refused the credentials \(401\).*GITHUB_TOKEN/,
      },
      [...planted, wrongToken],
    );
    expect(world.git.requests.some((r) => !r.authorized)).toBe(true);
    expect(await readdir(workRoot)).toEqual([]);
  });

  it('clone_failed for a base branch that does not exist: not retryable', async () => {
    const result = await run(
      payload(writePrompt('a.txt', 'a'), {
        repository: { url: world.repoUrl, baseBranch: 'release-9' },
      }),
    );
    expectFailure(
      result,
      {
        code: 'clone_failed',
        retryable: false,
        step: 'cloning',
        message: /base branch release-9 does not exist/,
      },
      planted,
    );
  });

  it('agent_failed when the model API fails', async () => {
    const result = await run(payload('Do it.\n[[status 500]]\n'));
    expectFailure(
      result,
      {
        code: 'agent_failed',
        retryable: true,
        step: 'running_agent',
        message: /Claude Code failed \(exit code 1\): .*500/,
      },
      planted,
    );
  });

  it('agent_failed names the key when the model API refuses it', async () => {
    const result = await run(payload(writePrompt('a.txt', 'a')), {
      ANTHROPIC_API_KEY: 'sk-ant-wrong-key-0000',
    });
    expectFailure(
      result,
      {
        code: 'agent_failed',
        retryable: true,
        step: 'running_agent',
        message: /401.*check the ANTHROPIC_API_KEY secret and clanker\.baseUrl/,
      },
      [...planted, 'sk-ant-wrong-key-0000'],
    );
  });

  it('agent_timeout when the model never answers; no process outlives the job', async () => {
    const marker = await tempDir('viberator-timeout-work-');
    const result = await run(
      payload('Do it.\n[[hang]]\n', {
        project: {
          id: 'p',
          branchNameTemplate: 'viberator/{{ ticket }}',
          workerSettings: { maxExecutionTime: 4 },
        },
      }),
      { VIBERATOR_WORK_ROOT: marker, VIBERATOR_KILL_GRACE: '1' },
    );
    expectFailure(
      result,
      {
        code: 'agent_timeout',
        retryable: true,
        step: 'running_agent',
        message: /ran longer than the limit of 4 s \(project\.workerSettings\.maxExecutionTime\)/,
      },
      planted,
    );
    expect(await processesWithEnvMarker(marker)).toEqual([]);
  });

  it('agent_timeout when the agent is silent too long', async () => {
    const result = await run(payload('Do it.\n[[hang]]\n'), {
      VIBERATOR_AGENT_INACTIVITY_TIMEOUT: '3',
      VIBERATOR_KILL_GRACE: '1',
    });
    expectFailure(
      result,
      {
        code: 'agent_timeout',
        retryable: true,
        step: 'running_agent',
        message: /was silent for 3 s/,
      },
      planted,
    );
  });

  it('cancelled when the worker gets SIGTERM; the agent is stopped with it', async () => {
    const marker = await tempDir('viberator-cancel-work-');
    const { run: result } = await captureAgentThenCancel(payload('Do it.\n[[hang]]\n'), {
      ...env,
      VIBERATOR_WORK_ROOT: marker,
    });
    expectFailure(
      result,
      { code: 'cancelled', retryable: true, step: 'running_agent', message: /SIGTERM/ },
      planted,
    );
    expect(await processesWithEnvMarker(marker)).toEqual([]);
  });

  it('no_changes when an execution job changes nothing', async () => {
    const result = await run(
      payload('Look around.\n[[answer]]\nEverything is already fine.\n[[end]]\n'),
    );
    expectFailure(
      result,
      {
        code: 'no_changes',
        retryable: false,
        step: 'committing',
        message: /finished without changing any file/,
      },
      planted,
    );
  });

  it('push_failed when the remote rejects the branch (protected): not retryable', async () => {
    const body = payload(writePrompt('b.txt', 'b'));
    await protectBranch(world.bareRepo, `viberator/${(body.ticket as { key: string }).key}`);
    const result = await run(body);
    expectFailure(
      result,
      {
        code: 'push_failed',
        retryable: false,
        step: 'pushing',
        message: /remote rejected the branch viberator\/FAIL-\d+: .*(GH006|protected)/,
      },
      planted,
    );
  });

  it("pr_failed carries GitHub's message: 422 is not retryable", async () => {
    world.github.failNext('create_pull', 422, 'Validation Failed', [
      {
        resource: 'PullRequest',
        code: 'custom',
        message: 'Base branch was modified. Review and try the merge again.',
      },
    ]);
    const result = await run(payload(writePrompt('c.txt', 'c')));
    expectFailure(
      result,
      {
        code: 'pr_failed',
        retryable: false,
        step: 'opening_pr',
        message: /GitHub answered 422: Validation Failed: Base branch was modified/,
      },
      planted,
    );
    expect(await listBranches(world.bareRepo)).toContain(result.result?.branch);
  });

  it('pr_failed on a GitHub that keeps answering 500: retryable, after a bounded number of tries', async () => {
    world.github.fault('create_pull', { status: 500, message: 'Server Error' }, 'always');
    try {
      const result = await run(payload(writePrompt('d.txt', 'd')));
      expectFailure(
        result,
        {
          code: 'pr_failed',
          retryable: true,
          step: 'opening_pr',
          message: /GitHub answered 500: Server Error \(after 4 attempts\)$/,
        },
        planted,
      );
      const creates = world.github.requests.filter(
        (r) => r.method === 'POST' && (r.body as { head?: string }).head === result.result?.branch,
      );
      // Three retries after 1, 4 and 9 s (plugin-retry's backoff), then the job gives up.
      expect(creates).toHaveLength(4);
      const spent = (creates.at(-1)?.at ?? 0) - (creates[0]?.at ?? 0);
      expect(spent).toBeGreaterThanOrEqual(13_000);
      expect(spent).toBeLessThan(25_000);
    } finally {
      world.github.clearFaults();
    }
  });
});
