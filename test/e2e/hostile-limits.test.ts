import { execFile } from 'node:child_process';
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import {
  closeHostile,
  type HostileRun,
  isRoot,
  mark,
  outcome,
  pushedPaths,
  remoteBranchSha,
  runHostileJob,
} from '../support/hostile-job.js';

const exec = promisify(execFile);

/** Disk blocks a directory uses, in KiB (`du -sk`: a sparse file counts at its real blocks). */
async function diskKiB(path: string): Promise<number> {
  const { stdout } = await exec('du', ['-sk', path]);
  return Number(stdout.split('\t')[0]);
}

/**
 * Class 3 of issue 15: whatever the agent left, staging, checking and copying it is bounded.
 * A sparse file counts at its full size and never fills the disk; a file over 100 MiB, too
 * many files or too many bytes fail the job with `push_failed` naming the limit and the path,
 * never `internal_error`, and nothing is pushed.
 */
describe.runIf(isRoot)('a hostile agent: sizes and disk', () => {
  let job: HostileRun | undefined;
  let earlier: HostileRun | undefined;
  afterEach(async () => {
    await closeHostile(job);
    await closeHostile(earlier);
    job = undefined;
    earlier = undefined;
  });

  /** The job failed on a limit: push_failed, not retryable, naming it; nothing pushed. */
  async function expectRefused(run: HostileRun, limit: string, path?: string): Promise<void> {
    expect(await mark(run, 'finished'), 'the hostile script did not run to its end').toBe('done\n');
    expect(await remoteBranchSha(run.world), `a work branch was pushed (${outcome(run)})`).toBe(
      undefined,
    );
    expect(run.run.code, outcome(run)).toBe(1);
    expect(run.run.result?.failure, outcome(run)).toMatchObject({
      code: 'push_failed',
      retryable: false,
    });
    const message = String(run.run.result?.failure?.message);
    expect(message, 'the message names the limit').toContain(limit);
    if (path) expect(message, 'the message names the file').toContain(path);
    expect(run.run.result?.failure?.code).not.toBe('internal_error');
    expect(run.world.github.pulls).toEqual([]);
  }

  it('a 3 GB sparse pack in its git dir after a commit: the job completes and the workspace stays small', async () => {
    job = await runHostileJob({
      jobId: 'job_h3_sparse_pack',
      script: 'limits.sh',
      args: ['sparse-pack'],
      keepWorkspace: true,
      timeoutMs: 150_000,
    });
    expect(await mark(job, 'finished'), 'the hostile script did not run to its end').toBe('done\n');
    // The pack the agent left is 3 GB long and takes no blocks.
    expect(await mark(job, 'pack-listing')).toMatch(/^\s*0 .* 3221225472 .*\.pack$/m);
    const kib = await diskKiB(join(job.workRoot, job.jobId));
    expect(
      kib,
      `the kept workspace takes ${Math.round(kib / 1024)} MiB (${outcome(job)})`,
    ).toBeLessThan(100 * 1024);
    expect(job.durationMs, `the job took ${job.durationMs} ms`).toBeLessThan(60_000);
    expect(job.run.result?.failure?.code, outcome(job)).not.toBe('internal_error');
    expect(job.run.result?.failure, outcome(job)).toBeUndefined();
    expect(job.run.code, outcome(job)).toBe(0);
    expect(await pushedPaths(job.world)).toContain('agent-change.txt');
  }, 200_000);

  it('a 3 GB sparse file in the tree: push_failed naming big.bin and VIBERATOR_MAX_FILE_SIZE, nothing pushed, no disk filled', async () => {
    job = await runHostileJob({
      jobId: 'job_h3_sparse_file',
      script: 'limits.sh',
      args: ['sparse-file'],
      keepWorkspace: true,
      timeoutMs: 150_000,
    });
    const kib = await diskKiB(join(job.workRoot, job.jobId));
    await expectRefused(job, 'VIBERATOR_MAX_FILE_SIZE', 'big.bin');
    expect(kib, `the kept workspace takes ${Math.round(kib / 1024)} MiB`).toBeLessThan(100 * 1024);
    expect(job.durationMs, `the job took ${job.durationMs} ms`).toBeLessThan(60_000);
  }, 200_000);

  it('a real 101 MiB file: refused naming it (GitHub’s 100 MiB limit), nothing pushed', async () => {
    job = await runHostileJob({
      jobId: 'job_h3_huge_file',
      script: 'limits.sh',
      args: ['huge-file'],
      timeoutMs: 150_000,
    });
    await expectRefused(job, 'VIBERATOR_MAX_FILE_SIZE', 'big.bin');
  }, 200_000);

  it('150 files over VIBERATOR_MAX_CHANGED_FILES=100: push_failed naming the limit', async () => {
    job = await runHostileJob({
      jobId: 'job_h3_many_files',
      script: 'limits.sh',
      args: ['many-files'],
      env: { VIBERATOR_MAX_CHANGED_FILES: '100' },
    });
    await expectRefused(job, 'VIBERATOR_MAX_CHANGED_FILES');
  }, 150_000);

  it('two 600 kB files over VIBERATOR_MAX_CHANGE_SIZE=1000000: push_failed naming the limit', async () => {
    job = await runHostileJob({
      jobId: 'job_h3_many_bytes',
      script: 'limits.sh',
      args: ['many-bytes'],
      env: { VIBERATOR_MAX_CHANGE_SIZE: '1000000' },
    });
    await expectRefused(job, 'VIBERATOR_MAX_CHANGE_SIZE');
  }, 150_000);

  it('a directory chain 3,000 levels deep and a mode-000 directory in its HOME: the workspace is removed, and a retry of the same jobId completes', async () => {
    earlier = await runHostileJob({
      jobId: 'job_h3_deep_home',
      script: 'limits.sh',
      args: ['deep-home'],
    });
    expect(await mark(earlier, 'deep'), 'the agent did not build its chain').toBe('deep\n');
    expect(earlier.run.result?.failure, outcome(earlier)).toBeUndefined();
    const workspace = join(earlier.workRoot, earlier.jobId);
    expect
      .soft(
        await access(workspace).then(
          () => 'still there',
          () => 'removed',
        ),
        'the workspace after the job',
      )
      .toBe('removed');

    job = await runHostileJob({
      jobId: 'job_h3_deep_home',
      script: 'limits.sh',
      args: ['plain'],
      workRoot: earlier.workRoot,
    });
    expect(job.run.result?.failure, `the retry ${outcome(job)}`).toBeUndefined();
    expect(job.run.code, outcome(job)).toBe(0);
  }, 200_000);
});
