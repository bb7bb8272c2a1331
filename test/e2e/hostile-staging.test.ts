import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  closeHostile,
  closeSudoMode,
  type HostileRun,
  isRoot,
  mark,
  outcome,
  pushedPaths,
  pushedTree,
  remoteObjects,
  reportedSurfaces,
  runHostileJob,
  type SudoMode,
  sudoMode,
} from '../support/hostile-job.js';
import { tempDir } from '../support/run-cli.js';
import type { ThrowawayUser } from '../support/throwaway-users.js';

const exec = promisify(execFile);

/**
 * Things only the worker may read (a 0700 directory of root's, or of the worker user's in the
 * sudo mode): a file holding one unique marker line, and a repository with one commit.
 */
interface WorkerOnly {
  dir: string;
  marker: string;
  secretFile: string;
  repoGitDir: string;
  commitId: string;
  /** A repository whose HEAD names a ref only its packed-refs (the marker line) could hold. */
  brokenGitDir: string;
}

async function workerOnly(owner?: ThrowawayUser): Promise<WorkerOnly> {
  const dir = await tempDir('viberator-root-only-'); // mkdtemp: 0700
  const marker = `ROOTONLY-${randomBytes(12).toString('hex')}`;
  const secretFile = join(dir, 'secret');
  await writeFile(secretFile, `${marker}\n`);
  const repo = join(dir, 'repo');
  const git = (args: string[]) =>
    exec('git', args, {
      env: {
        PATH: process.env.PATH ?? '',
        HOME: dir,
        GIT_CONFIG_NOSYSTEM: '1',
        GIT_CONFIG_GLOBAL: '/dev/null',
      },
    });
  await git(['init', '-q', '-b', 'main', repo]);
  await writeFile(join(repo, 'private.txt'), `${marker}\n`);
  await git(['-C', repo, 'add', 'private.txt']);
  await git([
    '-C',
    repo,
    '-c',
    'user.name=Root',
    '-c',
    'user.email=root@example.invalid',
    'commit',
    '-q',
    '-m',
    marker,
  ]);
  const commitId = (await git(['-C', repo, 'rev-parse', 'HEAD'])).stdout.trim();
  const broken = join(dir, 'broken');
  await git(['init', '-q', broken]);
  await writeFile(join(broken, '.git', 'HEAD'), 'ref: refs/heads/ghost\n');
  await writeFile(join(broken, '.git', 'packed-refs'), `${marker}\n`);
  if (owner) await exec('chown', ['-R', `${owner.uid}:${owner.gid}`, dir]);
  return {
    dir,
    marker,
    secretFile,
    repoGitDir: join(repo, '.git'),
    commitId,
    brokenGitDir: join(broken, '.git'),
  };
}

/** The script's arguments after its variant. */
function paths(secret: WorkerOnly): string[] {
  return [secret.secretFile, secret.repoGitDir, secret.brokenGitDir];
}

/** The marker appears in nothing the job reported or pushed. */
/** A root-worker job whose agent runs one variant of nested.sh against `secret`'s files. */
function nestedJob(jobId: string, variant: string, secret: WorkerOnly): Promise<HostileRun> {
  return runHostileJob({ jobId, script: 'nested.sh', args: [variant, ...paths(secret)] });
}

async function expectNoLeak(job: HostileRun, marker: string): Promise<void> {
  for (const [surface, text] of Object.entries(await reportedSurfaces(job))) {
    const line = text.split('\n').find((candidate) => candidate.includes(marker));
    expect(line === undefined, `the root-only marker leaked into ${surface}: ${line}`).toBe(true);
  }
  expect(
    (await remoteObjects(job.world)).includes(marker),
    'the root-only marker is in an object on the remote',
  ).toBe(false);
}

/** No gitlink in the pushed tree, and the worker-only commit's id in no pushed object. */
async function expectNoGitlink(job: HostileRun, commitId: string): Promise<void> {
  const tree = await pushedTree(job.world);
  expect(
    tree.filter((line) => line.startsWith('160000 ')),
    `a gitlink (mode 160000) was pushed (the root-only commit is ${commitId})`,
  ).toEqual([]);
  const objects = await remoteObjects(job.world);
  expect(objects.includes(commitId), 'the root-only commit id (hex) is on the remote').toBe(false);
  expect(
    objects.includes(Buffer.from(commitId, 'hex')),
    'the root-only commit id (binary, as in a tree) is on the remote',
  ).toBe(false);
}

/** The job completed with the agent's other change, and nothing under `dirs`. */
async function expectCompletedWithout(job: HostileRun, dirs: string[]): Promise<void> {
  expect(job.run.result?.failure, outcome(job)).toBeUndefined();
  expect(job.run.code, outcome(job)).toBe(0);
  const paths = await pushedPaths(job.world);
  expect(paths, 'the agent’s ordinary change was pushed').toContain('agent-change.txt');
  for (const dir of dirs) {
    expect(
      paths.filter((path) => path === dir || path.startsWith(`${dir}/`)),
      `something of the nested repository ${dir} was committed`,
    ).toEqual([]);
  }
}

/** The script ran to its end as the agent, and could not read the worker-only file itself. */
async function expectScriptRan(job: HostileRun): Promise<void> {
  expect(await mark(job, 'finished'), 'the hostile script did not run to its end').toBe('done\n');
  expect((await mark(job, 'agent-uid')).trim()).toBe(String(job.agentUid));
  expect(await mark(job, 'agent-read'), 'the agent itself could read the worker-only file').toBe(
    'denied\n',
  );
}

/**
 * Classes 1 and 2 of issue 15: nested repositories are never followed. The worker's git must
 * not read a file or a repository only the worker may read on the agent's behalf — not into
 * an error message, not as a gitlink.
 */
describe.runIf(isRoot)('a hostile agent: nested repositories', () => {
  let job: HostileRun | undefined;
  let secret: WorkerOnly | undefined;
  afterEach(async () => {
    await closeHostile(job);
    if (secret) await rm(secret.dir, { recursive: true, force: true });
    job = undefined;
    secret = undefined;
  });

  it('a nested packed-refs linked to a root-only file: its line appears nowhere, the job completes without the nested repository', async () => {
    secret = await workerOnly();
    job = await nestedJob('job_h1_packed_refs', 'packed-refs', secret);
    await expectScriptRan(job);
    await expectNoLeak(job, secret.marker);
    await expectCompletedWithout(job, ['nested']);
  }, 150_000);

  it.each([
    ['deep-packed-refs', 'a packed-refs link four levels down', 'deep'],
    ['head-link', 'a nested HEAD linked to the root-only file', 'nested'],
    ['config-link', 'a nested config linked to the root-only file', 'nested'],
    ['alternates-link', 'a nested objects/info/alternates linked to the root-only file', 'nested'],
    ['refs-link', 'a nested refs/heads linked to the root-only directory', 'nested'],
    ['dotgit-link', 'a nested .git that is a link to a root-only repository', 'nested'],
    [
      'gitfile-broken',
      'a gitfile naming a root-only repository with a broken packed-refs',
      'nested',
    ],
  ])(
    'variant %s (%s): nothing followed, nothing leaks, the job completes without it',
    async (variant, _what, dir) => {
      secret = await workerOnly();
      job = await nestedJob(`job_h1_${variant.replace(/-/g, '_')}`, variant, secret);
      await expectScriptRan(job);
      await expectNoLeak(job, secret.marker);
      await expectNoGitlink(job, secret.commitId);
      await expectCompletedWithout(job, [dir]);
    },
    150_000,
  );

  it('a gitfile naming a root-only repository: no gitlink, its commit id nowhere, the nested files left out', async () => {
    secret = await workerOnly();
    job = await nestedJob('job_h2_gitfile', 'gitfile', secret);
    await expectScriptRan(job);
    await expectNoGitlink(job, secret.commitId);
    await expectNoLeak(job, secret.marker);
    await expectCompletedWithout(job, ['sub']);
  }, 150_000);

  it('a nested repository the agent made and committed in: no gitlink, its files left out', async () => {
    secret = await workerOnly();
    job = await runHostileJob({
      jobId: 'job_h2_own_repo',
      script: 'nested.sh',
      args: ['own-repo', ...paths(secret)],
    });
    await expectScriptRan(job);
    expect(
      (await pushedTree(job.world)).filter((line) => line.startsWith('160000 ')),
      'a gitlink (mode 160000) was pushed',
    ).toEqual([]);
    await expectCompletedWithout(job, ['nested']);
  }, 150_000);
});

/**
 * Class 5: a FIFO (or socket) where the worker's git opens files must not hang the worker:
 * the job ends well within a minute, completes with the agent's normal file, and commits no
 * FIFO. The CLI is killed at 90 s, so the old code's 600 s hang shows as a missing Result.
 */
describe.runIf(isRoot)('a hostile agent: FIFOs and sockets', () => {
  let job: HostileRun | undefined;
  afterEach(async () => {
    await closeHostile(job);
    job = undefined;
  });

  async function expectCompletesQuickly(run: HostileRun, special: string[]): Promise<void> {
    expect(await mark(run, 'finished'), 'the hostile script did not run to its end').toBe('done\n');
    expect(run.durationMs, `the job took ${run.durationMs} ms (${outcome(run)})`).toBeLessThan(
      60_000,
    );
    expect(run.run.result?.failure, outcome(run)).toBeUndefined();
    expect(run.run.code, outcome(run)).toBe(0);
    const paths = await pushedPaths(run.world);
    expect(paths).toContain('normal.txt');
    for (const path of special) expect(paths, `${path} was committed`).not.toContain(path);
  }

  it('mkfifo .gitignore: the job ends within a minute, completes, the FIFO not committed', async () => {
    job = await runHostileJob({
      jobId: 'job_h5_fifo_gitignore',
      script: 'fifo.sh',
      args: ['gitignore'],
      timeoutMs: 90_000,
    });
    await expectCompletesQuickly(job, ['.gitignore']);
    // What was left out is said where the platform and the transcript see it: an event.
    expect(job.run.progress.join('\n')).toContain(
      'not committed: ".gitignore" is a FIFO, socket or device',
    );
  }, 150_000);

  it('FIFOs as .gitattributes, sub/.gitignore, a plain file, a subdir .git, and a unix socket: no hang, none committed', async () => {
    job = await runHostileJob({
      jobId: 'job_h5_fifo_elsewhere',
      script: 'fifo.sh',
      args: ['elsewhere'],
      timeoutMs: 90_000,
    });
    await expectCompletesQuickly(job, [
      '.gitattributes',
      'sub/.gitignore',
      'plain-fifo',
      'fake/.git',
      'fake',
      'deep/er/.gitattributes',
      'unix.sock',
    ]);
  }, 150_000);
});

/**
 * The same in the images' mode: a non-root worker with a sudo rule to its agent user. What
 * only the worker may read is the worker user's own (0700, its owner).
 */
describe.runIf(isRoot)('a hostile agent against a non-root worker (sudo mode)', () => {
  const modes: SudoMode[] = [];
  let job: HostileRun | undefined;
  let secret: WorkerOnly | undefined;
  afterEach(async () => {
    await closeHostile(job);
    if (secret) await rm(secret.dir, { recursive: true, force: true });
    job = undefined;
    secret = undefined;
  });
  afterAll(async () => {
    for (const mode of modes) await closeSudoMode(mode);
  });

  async function freshMode(): Promise<SudoMode> {
    const mode = await sudoMode();
    modes.push(mode);
    return mode;
  }

  it('a nested packed-refs link and a gitfile to the worker’s own files: nothing leaks, no gitlink, the job completes', async () => {
    const sudo = await freshMode();
    secret = await workerOnly(sudo.worker);
    job = await runHostileJob({
      jobId: 'job_h12_sudo',
      script: 'nested.sh',
      args: ['sudo', ...paths(secret)],
      sudo,
    });
    await expectScriptRan(job);
    await expectNoLeak(job, secret.marker);
    await expectNoGitlink(job, secret.commitId);
    await expectCompletedWithout(job, ['nested', 'sub']);
  }, 150_000);

  it('mkfifo .gitignore: the job ends within a minute and completes', async () => {
    const sudo = await freshMode();
    job = await runHostileJob({
      jobId: 'job_h5_sudo',
      script: 'fifo.sh',
      args: ['gitignore'],
      timeoutMs: 90_000,
      sudo,
    });
    expect(await mark(job, 'finished'), 'the hostile script did not run to its end').toBe('done\n');
    expect(job.durationMs, `the job took ${job.durationMs} ms (${outcome(job)})`).toBeLessThan(
      60_000,
    );
    expect(job.run.result?.failure, outcome(job)).toBeUndefined();
    expect(job.run.code, outcome(job)).toBe(0);
    const paths = await pushedPaths(job.world);
    expect(paths).toContain('normal.txt');
    expect(paths).not.toContain('.gitignore');
  }, 150_000);
});
