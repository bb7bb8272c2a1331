import { execFile } from 'node:child_process';
import { mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalWorld, startLocalWorld } from '../support/local-world/local-world.js';
import { listBranches, readBranch } from '../support/local-world/seed-repo.js';
import { executionPayload, writePrompt } from '../support/payloads.js';
import { plantedSecrets, runCli, tempDir, worldEnv } from '../support/run-cli.js';

const git = promisify(execFile);

describe('an execution job, end to end over real protocols', () => {
  const secrets = plantedSecrets();
  let world: LocalWorld;
  let workRoot: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    world = await startLocalWorld({ credentials: secrets });
    workRoot = await tempDir('viberator-e2e-work-');
    env = worldEnv(world, workRoot);
  });
  afterAll(async () => world?.close());

  // The model of a retry answers a little differently, as real models do; otherwise both
  // attempts could make the very same commit within one second.
  const payload = (target = '/dashboard') =>
    executionPayload({
      jobId: 'job_exec_1',
      repoUrl: world.repoUrl,
      modelUrl: world.model.url,
      prompt: writePrompt(
        'src/login.js',
        `export const redirect = '${target}';`,
        'Login now redirects to /dashboard.',
      ),
      overrides: {
        clanker: {
          id: 'clk_backend',
          name: 'backend-bot',
          agent: 'claude-code',
          model: 'claude-sonnet-4-5',
          baseUrl: world.model.url,
          agentsMd: '# House rules\n- Marker HOUSE-RULES-7731: run the tests before you finish.\n',
        },
      },
    });

  it('pushes a branch with a trailer-carrying commit and opens a pull request', async () => {
    const run = await runCli(['run', '--payload', '-'], { env, stdin: JSON.stringify(payload()) });
    expect(run.result?.failure).toBeUndefined();
    expect(run.code).toBe(0);
    expect(run.result).toMatchObject({
      jobId: 'job_exec_1',
      status: 'completed',
      phase: 'execution',
      agent: 'claude-code',
      branch: 'viberator/ENG-42',
      changedFiles: 1,
      prNumber: 1,
    });
    expect(run.result?.agentDurationMs).toBeGreaterThan(0);
    expect(run.result?.usage?.outputTokens).toBeGreaterThan(0);

    const branch = await readBranch(world.bareRepo, 'viberator/ENG-42');
    expect(branch?.sha).toBe(run.result?.commitSha);
    expect(branch?.files).toContain('src/login.js');
    expect(branch?.message).toMatch(/^ENG-42: Fix login redirect/);
    expect(branch?.message).toContain('Viberator-Job: job_exec_1');
    expect(branch?.message).toContain('Viberator-Agent: claude-code');
    expect(branch?.message).toContain('Viberator-Clanker: clk_backend');

    const [pull] = world.github.pulls;
    expect(world.github.pulls).toHaveLength(1);
    expect(run.result?.prUrl).toBe(pull?.html_url);
    expect(pull).toMatchObject({
      title: 'ENG-42: Fix login redirect',
      head: { ref: 'viberator/ENG-42' },
      base: { ref: 'main' },
    });
    expect(pull?.body).toContain('<!-- viberator-job: job_exec_1 -->');
    expect(pull?.body).toContain('Login now redirects to /dashboard.');
    expect(pull?.body).toContain('src/login.js');

    // The clanker's model and instructions reached the model server.
    const toolRequests = world.model.requests.filter((r) => Array.isArray((r.body as any)?.tools));
    expect(toolRequests.length).toBeGreaterThan(0);
    expect(toolRequests.every((r) => (r.body as any).model === 'claude-sonnet-4-5')).toBe(true);
    expect(JSON.stringify(toolRequests[0]?.body)).toContain('HOUSE-RULES-7731');

    // Events: every step started and completed, in lifecycle order.
    const steps = run.progress.filter((line) =>
      / (started|completed|failed)( \(\d+ ms\))?$/.test(line),
    );
    expect(steps.map((line) => line.replace(/ \(\d+ ms\)$/, ''))).toEqual(
      [
        'received',
        'resolving_config',
        'fetching_credentials',
        'initialising_agent',
        'cloning',
        'running_agent',
        'committing',
        'pushing',
        'opening_pr',
        'reporting',
      ].flatMap((step) => [`viberator: ${step} started`, `viberator: ${step} completed`]),
    );
    expect(run.progress.some((line) => line.includes('agent edit Write'))).toBe(true);

    // The workspace is gone and nothing the worker placed was committed.
    expect(await readdir(workRoot)).toEqual([]);
    expect(branch?.files.sort()).toEqual(['README.md', 'src/index.js', 'src/login.js']);
  });

  it('run again, updates the same branch and reuses the open pull request', async () => {
    const first = await readBranch(world.bareRepo, 'viberator/ENG-42');
    const run = await runCli(['run', '--payload', '-'], {
      env,
      stdin: JSON.stringify(payload('/dashboard/home')),
    });
    expect(run.code).toBe(0);
    expect(world.github.pulls).toHaveLength(1);
    expect(run.result?.prNumber).toBe(1);
    expect(run.result?.prUrl).toBe(world.github.pulls[0]?.html_url);
    const second = await readBranch(world.bareRepo, 'viberator/ENG-42');
    expect(second?.sha).toBe(run.result?.commitSha);
    expect(second?.sha).not.toBe(first?.sha);
  });

  it('runs from flags on a local repository: the branch lands in it, no pull request', async () => {
    const localRepo = await tempDir('viberator-local-repo-');
    await git('git', ['clone', '--quiet', world.bareRepo, localRepo]);
    const run = await runCli(
      [
        'run',
        '--repo',
        localRepo,
        '--agent',
        'claude-code',
        '--prompt',
        writePrompt('notes.md', '# Notes'),
        '--base-url',
        world.model.url,
        '--ticket-key',
        'LOC-7',
      ],
      { env },
    );
    expect(run.result?.failure).toBeUndefined();
    expect(run.result).toMatchObject({
      status: 'completed',
      branch: 'viberator/LOC-7',
      changedFiles: 1,
    });
    expect(run.result?.prUrl).toBeUndefined();
    expect(
      run.progress.some((line) => line.includes('no pull request: the repository is a local path')),
    ).toBe(true);
    const { stdout } = await git('git', [
      '-C',
      localRepo,
      'show',
      '--stat',
      '--format=%B',
      'viberator/LOC-7',
    ]);
    expect(stdout).toContain('notes.md');
    expect(stdout).toContain('Viberator-Agent: claude-code');
  });

  it('runs a research job: a document in the Result, nothing pushed', async () => {
    const before = await listBranches(world.bareRepo);
    // A workspace left by an earlier run of the same job is replaced, not reused.
    await mkdir(join(workRoot, 'job_research_1', 'repo'), { recursive: true });
    await writeFile(join(workRoot, 'job_research_1', 'stale.txt'), 'left over');
    const run = await runCli(['run', '--payload', '-', '--keep-workspace'], {
      env,
      stdin: JSON.stringify(
        executionPayload({
          jobId: 'job_research_1',
          repoUrl: world.repoUrl,
          modelUrl: world.model.url,
          prompt:
            'Research how sessions are stored.\n[[answer]]\nSessions live in src/session.js and expire after 30 minutes.\n[[end]]\n',
          overrides: { template: 'ticket_research' },
        }),
      ),
    });
    expect(run.code).toBe(0);
    expect(run.result).toMatchObject({
      status: 'completed',
      phase: 'research',
      document: 'Sessions live in src/session.js and expire after 30 minutes.',
    });
    expect(run.result?.branch).toBeUndefined();
    expect(run.result?.prUrl).toBeUndefined();
    expect(run.progress.some((line) => line.includes('pushing'))).toBe(false);
    expect(await listBranches(world.bareRepo)).toEqual(before);
    const kept = join(workRoot, 'job_research_1');
    // Only the worker and the agent's group may pass; nobody may list it.
    expect((await stat(kept)).mode & 0o777).toBe(process.getuid?.() === 0 ? 0o710 : 0o700);
    expect((await readdir(kept)).sort()).toEqual(['agent', 'git', 'home', 'repo', 'tmp', 'worker']);
    expect((await stat(join(kept, 'worker'))).mode & 0o777).toBe(0o700);
    await rm(kept, { recursive: true, force: true });
  });
});

describe("the agent's own commits", () => {
  const secrets = plantedSecrets();
  let world: LocalWorld;

  beforeAll(async () => {
    world = await startLocalWorld({ credentials: secrets });
  });
  afterAll(async () => world?.close());

  it("are squashed into the worker's one commit: their content and messages kept, the identity and trailers the worker's", async () => {
    const prompt = [
      '[[write src/first.js]]',
      'export const first = 1;',
      '[[end]]',
      '[[bash]]',
      "git add src/first.js && git commit -q -m 'agent: add first'",
      '[[end]]',
      '[[write src/second.js]]',
      'export const second = 2;',
      '[[end]]',
    ].join('\n');
    const run = await runCli(['run', '--payload', '-'], {
      env: worldEnv(world, await tempDir('viberator-agent-commit-')),
      stdin: JSON.stringify(
        executionPayload({
          jobId: 'job_agent_commit',
          repoUrl: world.repoUrl,
          modelUrl: world.model.url,
          prompt,
        }),
      ),
    });
    expect(run.result?.failure).toBeUndefined();
    expect(run.result?.changedFiles).toBe(2);
    const { stdout } = await git('git', [
      '--git-dir',
      world.bareRepo,
      'log',
      '--format=%s|%an|%cn|%(trailers:key=Viberator-Job,valueonly)',
      'viberator/ENG-42',
    ]);
    const commits = stdout.trim().split('\n').filter(Boolean);
    // The worker's commit on the seed commit: the agent's commit is in it, not beside it.
    expect(commits).toHaveLength(2);
    expect(commits[0]).toBe('ENG-42: Fix login redirect|Viberator|Viberator|job_agent_commit');
    const body = await git('git', [
      '--git-dir',
      world.bareRepo,
      'log',
      '-1',
      '--format=%B',
      'viberator/ENG-42',
    ]);
    expect(body.stdout).toContain(
      "The agent's own commits, squashed into this one:\n\n    agent: add first\n",
    );
    const files = await git('git', [
      '--git-dir',
      world.bareRepo,
      'ls-tree',
      '-r',
      '--name-only',
      'viberator/ENG-42',
    ]);
    expect(files.stdout).toContain('src/first.js');
    expect(files.stdout).toContain('src/second.js');
  });
});

describe('claw jobs', () => {
  const secrets = plantedSecrets();
  let world: LocalWorld;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    world = await startLocalWorld({ credentials: secrets });
    env = worldEnv(world, await tempDir('viberator-claw-'));
  });
  afterAll(async () => world?.close());

  const clawPayload = (jobId: string, prompt: string) =>
    executionPayload({
      jobId,
      repoUrl: world.repoUrl,
      modelUrl: world.model.url,
      prompt,
      overrides: {
        template: 'claw_scheduled_task',
        ticket: undefined,
        claw: { id: 'claw_3', key: 'nightly-deps', name: 'Nightly dependency bump' },
        project: { id: 'p', branchNameTemplate: 'claw/{{ ticket }}' },
      },
    });

  it('with changes: a document, a branch and a pull request titled by the claw', async () => {
    const run = await runCli(['run', '--payload', '-'], {
      env,
      stdin: JSON.stringify(
        clawPayload('job_claw_1', writePrompt('deps.txt', 'bumped', 'Bumped one dependency.')),
      ),
    });
    expect(run.result?.failure).toBeUndefined();
    expect(run.result).toMatchObject({
      phase: 'claw',
      document: 'Bumped one dependency.',
      branch: 'claw/nightly-deps',
      changedFiles: 1,
      prNumber: 1,
    });
    expect(world.github.pulls[0]?.title).toBe('nightly-deps: Nightly dependency bump');
  });

  it('without changes: completed with the document only, nothing pushed', async () => {
    const before = await listBranches(world.bareRepo);
    const run = await runCli(['run', '--payload', '-'], {
      env,
      stdin: JSON.stringify(
        clawPayload('job_claw_2', 'Check.\n[[answer]]\nAll dependencies are current.\n[[end]]\n'),
      ),
    });
    expect(run.code).toBe(0);
    expect(run.result).toMatchObject({
      status: 'completed',
      phase: 'claw',
      document: 'All dependencies are current.',
      changedFiles: 0,
    });
    expect(run.result?.branch).toBeUndefined();
    expect(await listBranches(world.bareRepo)).toEqual(before);
    expect(world.github.pulls).toHaveLength(1);
  });
});
