import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';

const exec = promisify(execFile);

/** The host's shared writable places an agent can leave files in. */
export const SHARED_PLACES = ['/tmp', '/var/tmp', '/dev/shm', '/run/lock', '/dev/mqueue'];

/**
 * Every path of `uid` in the shared places that the user itself can reach — what the next
 * job's agent (the same user) would find — the directories in `skip` (a work root with a kept
 * workspace) left out. GNU find run as that user, so a 3,000-level chain is no problem.
 */
export async function pathsOwnedBy(
  uid: number,
  gid: number,
  skip: string[] = [],
): Promise<string[]> {
  const prune = skip.flatMap((dir) => ['-path', dir, '-prune', '-o']);
  const found: string[] = [];
  for (const place of SHARED_PLACES) {
    const out = await exec(
      'setpriv',
      [
        `--reuid=${uid}`,
        `--regid=${gid}`,
        '--clear-groups',
        '--',
        'find',
        place,
        '-xdev',
        ...prune,
        '-user',
        String(uid),
        '-print',
      ],
      { maxBuffer: 64 * 1024 * 1024 },
    ).catch((error: { stdout?: string }) => ({ stdout: error.stdout ?? '' }));
    found.push(...out.stdout.split('\n').filter(Boolean));
  }
  return found;
}

/** SysV IPC objects (shared memory, message queues, semaphores) owned or created by `uid`. */
export async function sysvIpcOf(uid: number): Promise<string[]> {
  const found: string[] = [];
  for (const kind of ['shm', 'msg', 'sem']) {
    const text = await readFile(`/proc/sysvipc/${kind}`, 'utf8').catch(() => '');
    const [header = '', ...rows] = text.split('\n').filter((line) => line.trim());
    const columns = header.trim().split(/\s+/);
    for (const row of rows) {
      const cells = row.trim().split(/\s+/);
      const owner = Number(cells[columns.indexOf('uid')]);
      const creator = Number(cells[columns.indexOf('cuid')]);
      if (owner === uid || creator === uid) found.push(`${kind} ${cells[1]}`);
    }
  }
  return found;
}
