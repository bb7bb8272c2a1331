import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { AgentIdentity } from '../isolation/agent-identity.js';
import { removeTree, sweepTrash, TRASH_PREFIX } from './remove-tree.js';

const exec = promisify(execFile);
const worker: AgentIdentity =
  process.getuid?.() === 0
    ? { mode: 'root', uid: 61996, gid: 61996, label: 'test', reserved: false }
    : { mode: 'same-user', uid: process.getuid?.() ?? -1, gid: -1, label: 'test' };

describe('removeTree', () => {
  it('removes a 3,000-level chain with directories and files without mode bits', async () => {
    const parent = await mkdtemp(join(tmpdir(), 'viberator-remove-'));
    const root = join(parent, 'job_1');
    await mkdir(join(root, 'home'), { recursive: true });
    // Made 500 levels at a time: each relative path stays under PATH_MAX.
    const step = Array.from({ length: 500 }, () => 'd').join('/');
    await exec('/bin/sh', [
      '-c',
      `cd -P "$1" && for _ in 1 2 3 4 5 6; do mkdir -p "$2" && cd -P "$2" || exit 1; done && echo x > f && chmod 000 . && cd -P "$1" && mkdir -p ro && echo y > ro/f && chmod 444 ro/f && chmod 555 ro && chmod 000 d`,
      'sh',
      join(root, 'home'),
      step,
    ]);
    // Node's own recursive rm fails on this tree; that is why the removal uses GNU rm.
    await expect(rm(root, { recursive: true, force: true })).rejects.toThrow();
    expect(await removeTree(root, worker, [join(root, 'home')])).toEqual({ removed: true });
    expect(await readdir(parent)).toEqual([]);
    await rm(parent, { recursive: true });
  });

  // Root alone can make a file no one may remove (chattr +i): the backstop for whatever a
  // removal cannot get through.
  it.runIf(process.getuid?.() === 0)(
    'moves a tree it cannot remove aside, so the job path is free, and sweeps it later',
    async () => {
      const parent = await mkdtemp(join(tmpdir(), 'viberator-remove-'));
      const root = join(parent, 'job_2');
      await mkdir(join(root, 'repo'), { recursive: true });
      await exec('touch', [join(root, 'repo', 'stuck')]);
      await exec('chattr', ['+i', join(root, 'repo', 'stuck')]);
      try {
        const outcome = await removeTree(root, worker, [join(root, 'repo')]);
        expect(outcome).toMatchObject({ removed: false, why: expect.stringContaining('rm -rf') });
        const [trash] = await readdir(parent);
        expect(trash?.startsWith(`${TRASH_PREFIX}job_2-`)).toBe(true);
        expect(outcome.removed ? '' : outcome.trash).toBe(join(parent, trash ?? ''));
        // Still stuck: the sweep says so; once it can go, the sweep removes it.
        expect(await sweepTrash(parent, worker, ['repo'])).toEqual([join(parent, trash ?? '')]);
        await exec('chattr', ['-i', join(parent, trash ?? '', 'repo', 'stuck')]);
        expect(await sweepTrash(parent, worker, ['repo'])).toEqual([]);
        expect(await readdir(parent)).toEqual([]);
      } finally {
        await exec('sh', ['-c', 'chattr -R -i "$1"; rm -rf "$1"', 'sh', parent]);
      }
    },
  );

  it('is done at once when there is nothing', async () => {
    expect(await removeTree('/nonexistent/viberator/job', worker, [])).toEqual({ removed: true });
  });
});
