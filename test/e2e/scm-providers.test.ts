import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GitHttpServer, startGitHttpServer } from '../support/local-world/git-http-server.js';
import { type GiteaStandIn, startGiteaStandIn } from '../support/local-world/gitea-stand-in.js';
import { type GitLabStandIn, startGitLabStandIn } from '../support/local-world/gitlab-stand-in.js';
import { createBareRepo, listBranches, readBranch } from '../support/local-world/seed-repo.js';
import { type ModelServer, startModelServer } from '../support/model-server/model-server.js';
import { executionPayload, writePrompt } from '../support/payloads.js';
import { cliEnv, runCli, tempDir } from '../support/run-cli.js';

const exec = promisify(execFile);
const GITLAB_PROJECT = 'platform/backend/api';
const GITEA_REPO = 'acme/service';

/**
 * GitLab merge requests and Gitea pull requests, end to end with the real Claude Code: the
 * repository behind the token-checking git server, the SCM's API behind its stand-in.
 */
describe('GitLab and Gitea', () => {
  const tokens = {
    gitlab: `glpat-planted${Date.now().toString(36)}abcdef0123`,
    gitea: `gtea_planted${Date.now().toString(36)}abcdef0123`,
    anthropic: `sk-ant-planted-scm-${Date.now().toString(36)}`,
  };
  let root: string;
  let gitlabGit: GitHttpServer;
  let giteaGit: GitHttpServer;
  let gitlab: GitLabStandIn;
  let gitea: GiteaStandIn;
  let model: ModelServer;
  const bare: Record<string, string> = {};

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'viberator-scm-'));
    bare.gitlab = await createBareRepo(join(root, 'gitlab'), GITLAB_PROJECT, {
      files: { 'README.md': '# API\n' },
    });
    bare.gitea = await createBareRepo(join(root, 'gitea'), GITEA_REPO, {
      files: { 'README.md': '# Service\n' },
    });
    gitlabGit = await startGitHttpServer({
      projectRoot: join(root, 'gitlab'),
      token: tokens.gitlab,
    });
    giteaGit = await startGitHttpServer({ projectRoot: join(root, 'gitea'), token: tokens.gitea });
    gitlab = await startGitLabStandIn({
      token: tokens.gitlab,
      projects: [GITLAB_PROJECT],
      branchExists: async (_, branch) => (await listBranches(bare.gitlab ?? '')).includes(branch),
    });
    gitea = await startGiteaStandIn({
      token: tokens.gitea,
      repos: [GITEA_REPO],
      branchExists: async (_o, _r, branch) =>
        (await listBranches(bare.gitea ?? '')).includes(branch),
    });
    model = await startModelServer({ apiKey: tokens.anthropic });
  });
  afterAll(async () => {
    await Promise.allSettled([
      gitlabGit?.close(),
      giteaGit?.close(),
      gitlab?.close(),
      gitea?.close(),
      model?.close(),
    ]);
    await rm(root, { recursive: true, force: true });
  });

  function gitlabJob(jobId: string, key: string, secrets?: unknown) {
    return executionPayload({
      jobId,
      repoUrl: gitlabGit.repoUrl(GITLAB_PROJECT),
      modelUrl: model.url,
      prompt: writePrompt('notes.md', `written for ${key}`),
      overrides: {
        ticket: { id: key, key, title: 'Add notes' },
        repository: {
          url: gitlabGit.repoUrl(GITLAB_PROJECT),
          baseBranch: 'main',
          provider: 'gitlab',
          apiUrl: gitlab.apiUrl,
        },
        secrets: secrets ?? [{ name: 'ANTHROPIC_API_KEY' }, { name: 'GITLAB_TOKEN' }],
      },
    });
  }

  function giteaJob(jobId: string, key: string) {
    return executionPayload({
      jobId,
      repoUrl: giteaGit.repoUrl(GITEA_REPO),
      modelUrl: model.url,
      prompt: writePrompt('notes.md', `written for ${key}`),
      overrides: {
        ticket: { id: key, key, title: 'Add notes' },
        repository: {
          url: giteaGit.repoUrl(GITEA_REPO),
          baseBranch: 'main',
          provider: 'gitea',
          apiUrl: gitea.apiUrl,
        },
        secrets: [{ name: 'ANTHROPIC_API_KEY' }, { name: 'GITEA_TOKEN' }],
      },
    });
  }

  async function run(payload: unknown, extra: Record<string, string> = {}) {
    return runCli(['run', '--payload', '-'], {
      env: cliEnv({
        VIBERATOR_WORK_ROOT: await tempDir('viberator-scm-work-'),
        ANTHROPIC_API_KEY: tokens.anthropic,
        GITLAB_TOKEN: tokens.gitlab,
        GITEA_TOKEN: tokens.gitea,
        VIBERATOR_LOG_LEVEL: 'debug',
        ...extra,
      }),
      stdin: JSON.stringify(payload),
    });
  }

  /** No planted token anywhere the job wrote: its output, the requests it made, what it opened. */
  function expectNoLeak(output: { stdout: string; stderr: string }) {
    const sent = JSON.stringify([
      gitlab.requests,
      gitlab.mergeRequests,
      gitea.requests,
      gitea.pulls,
      gitlabGit.requests,
      giteaGit.requests,
    ]);
    for (const token of [tokens.gitlab, tokens.gitea]) {
      for (const form of [token, Buffer.from(`oauth2:${token}`).toString('base64')]) {
        expect(output.stdout).not.toContain(form);
        expect(output.stderr).not.toContain(form);
        expect(sent).not.toContain(form);
      }
    }
  }

  it('GitLab: a merge request in a subgroup project, with the job marker; the git server saw oauth2', async () => {
    const result = await run(gitlabJob('job_gl_1', 'GL-1'));
    expect(result.result?.failure).toBeUndefined();
    expect(result.code).toBe(0);
    const mr = gitlab.mergeRequests.find((m) => m.source_branch === 'viberator/GL-1');
    expect(mr).toMatchObject({ target_branch: 'main', title: 'GL-1: Add notes', state: 'opened' });
    expect(mr?.description).toContain('<!-- viberator-job: job_gl_1 -->');
    expect(result.result).toMatchObject({ prUrl: mr?.web_url, prNumber: mr?.iid });
    expect(mr?.web_url).toContain(`/${GITLAB_PROJECT}/-/merge_requests/`);
    // The API was asked by the project's URL-encoded full path.
    expect(gitlab.requests.some((r) => r.path.includes(encodeURIComponent(GITLAB_PROJECT)))).toBe(
      true,
    );
    // git authenticated the way GitLab documents for a token: user oauth2, token as password.
    const pushes = gitlabGit.requests.filter((r) => r.path.includes('git-receive-pack'));
    expect(pushes.length).toBeGreaterThan(0);
    expect(pushes.every((r) => r.user === 'oauth2')).toBe(true);
    expect((await readBranch(bare.gitlab ?? '', 'viberator/GL-1'))?.files).toContain('notes.md');
    expectNoLeak(result);
  });

  it('GitLab: a retried job reuses the open merge request (409 is reuse, not failure)', async () => {
    const first = await run(gitlabJob('job_gl_2', 'GL-2'));
    expect(first.code).toBe(0);
    const again = await run(gitlabJob('job_gl_2', 'GL-2'));
    expect(again.result?.failure).toBeUndefined();
    expect(again.result?.prNumber).toBe(first.result?.prNumber);
    expect(again.result?.prUrl).toBe(first.result?.prUrl);
    expect(gitlab.mergeRequests.filter((m) => m.source_branch === 'viberator/GL-2')).toHaveLength(
      1,
    );
  });

  it('GitLab: without GITLAB_TOKEN the job fails before the clone with missing_secret naming it', async () => {
    const before = gitlabGit.requests.length;
    const result = await run(gitlabJob('job_gl_3', 'GL-3', [{ name: 'ANTHROPIC_API_KEY' }]));
    expect(result.code).toBe(1);
    expect(result.result?.failure).toMatchObject({
      code: 'missing_secret',
      retryable: false,
      step: 'fetching_credentials',
    });
    expect(result.result?.failure.message).toContain('GITLAB_TOKEN');
    expect(gitlabGit.requests.length).toBe(before);
  });

  it("GitLab: a 500 is pr_failed, retryable, with GitLab's own message", async () => {
    gitlab.fault('create_mr', { status: 500, message: '500 Internal Server Error' }, 'always');
    const result = await run(gitlabJob('job_gl_4', 'GL-4'));
    gitlab.clearFaults();
    expect(result.result?.failure).toMatchObject({
      code: 'pr_failed',
      retryable: true,
      step: 'opening_pr',
    });
    expect(result.result?.failure.message).toContain(
      'GitLab answered 500: 500 Internal Server Error',
    );
    expect(result.result?.failure.message).toContain('after 4 attempts');
  }, 60_000);

  it('GitLab: a 422 is pr_failed, not retryable, carrying the message', async () => {
    gitlab.fault('create_mr', {
      status: 422,
      message: ['Validation failed: Source branch is protected'],
    });
    const result = await run(gitlabJob('job_gl_5', 'GL-5'));
    expect(result.result?.failure).toMatchObject({ code: 'pr_failed', retryable: false });
    expect(result.result?.failure.message).toContain('Source branch is protected');
  });

  it('Gitea: a pull request with the right branches and marker; a retry reuses it', async () => {
    const first = await run(giteaJob('job_gt_1', 'GT-1'));
    expect(first.result?.failure).toBeUndefined();
    const pull = gitea.pulls.find((p) => p.head.ref === 'viberator/GT-1');
    expect(pull).toMatchObject({ title: 'GT-1: Add notes', state: 'open' });
    expect(pull?.base.ref).toBe('main');
    expect(pull?.body).toContain('<!-- viberator-job: job_gt_1 -->');
    expect(first.result).toMatchObject({ prUrl: pull?.html_url, prNumber: pull?.number });
    const again = await run(giteaJob('job_gt_1', 'GT-1'));
    expect(again.result?.failure).toBeUndefined();
    expect(again.result?.prNumber).toBe(first.result?.prNumber);
    expect(gitea.pulls.filter((p) => p.head.ref === 'viberator/GT-1')).toHaveLength(1);
    const pushes = giteaGit.requests.filter((r) => r.path.includes('git-receive-pack'));
    expect(pushes.every((r) => r.user === 'oauth2')).toBe(true);
    expectNoLeak(first);
    expectNoLeak(again);
  });

  it('Gitea: a 403 is pr_failed, not retryable, naming GITEA_TOKEN and the scope', async () => {
    gitea.fault('create_pull', {
      status: 403,
      message: 'token does not have at least one of required scope(s): [write:repository]',
    });
    const result = await run(giteaJob('job_gt_2', 'GT-2'));
    expect(result.result?.failure).toMatchObject({ code: 'pr_failed', retryable: false });
    expect(result.result?.failure.message).toContain('required scope');
    expect(result.result?.failure.message).toContain('GITEA_TOKEN');
  });

  it('Gitea: a 422 is pr_failed, not retryable, with its message', async () => {
    gitea.fault('create_pull', {
      status: 422,
      message: 'Invalid PullRequest: There are no changes between the head and the base',
    });
    const result = await run(giteaJob('job_gt_4', 'GT-4'));
    expect(result.result?.failure).toMatchObject({ code: 'pr_failed', retryable: false });
    expect(result.result?.failure.message).toContain('There are no changes between the head');
    expectNoLeak(result);
  });

  it('Gitea: a 500 is pr_failed, retryable', async () => {
    gitea.fault('create_pull', { status: 500, message: 'internal error' }, 'always');
    const result = await run(giteaJob('job_gt_3', 'GT-3'));
    gitea.clearFaults();
    expect(result.result?.failure).toMatchObject({ code: 'pr_failed', retryable: true });
    expect(result.result?.failure.message).toContain('Gitea answered 500: internal error');
  }, 60_000);

  it("GitLab: GITLAB_TOKEN is the worker's credential: not in the agent's environment", async () => {
    const payload = gitlabJob('job_gl_7', 'GL-7') as { prompt: string };
    payload.prompt = [
      'Check the environment.',
      '[[bash]]',
      'if [ -z "$GITLAB_TOKEN" ] && [ -z "$GITEA_TOKEN" ]; then echo absent; else echo present; fi > token-check.txt',
      '[[end]]',
      '[[answer]]',
      'Checked.',
      '[[end]]',
    ].join('\n');
    const result = await run(payload);
    expect(result.result?.failure).toBeUndefined();
    const { stdout } = await exec('git', [
      '--git-dir',
      bare.gitlab ?? '',
      'show',
      'viberator/GL-7:token-check.txt',
    ]);
    expect(stdout.trim()).toBe('absent');
    expectNoLeak(result);
  });

  it('a wrong GitLab token is clone_failed naming GITLAB_TOKEN, not retryable', async () => {
    const result = await run(gitlabJob('job_gl_6', 'GL-6'), {
      GITLAB_TOKEN: 'glpat-wrong-token-value',
    });
    expect(result.result?.failure).toMatchObject({ code: 'clone_failed', retryable: false });
    expect(result.result?.failure.message).toContain('GITLAB_TOKEN');
  });
});
