import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import type { AgentIdentity } from './agent-identity.js';
import { AgentTempCleanup } from './agent-temp.js';

const exec = promisify(execFile);
const sameUser: AgentIdentity = {
  mode: 'same-user',
  uid: process.getuid?.() ?? -1,
  gid: process.getgid?.() ?? -1,
  label: "the worker's own user",
};

describe('same-user mode: the new top-level entries of a shared place go after the agent', () => {
  let place: string;
  afterEach(async () => {
    await exec('rm', ['-rf', place]);
  });

  it('removes what appeared (a locked tree, a FIFO, a link), keeps what was there and the work root', async () => {
    place = await mkdtemp(join(tmpdir(), 'viberator-place-'));
    const workRoot = join(place, 'viberator', 'work');
    await mkdir(workRoot, { recursive: true });
    await writeFile(join(place, 'before.txt'), 'the worker had this\n');
    const { cleanup, problems } = await AgentTempCleanup.start({
      identity: sameUser,
      workRoot,
      places: [place],
    });
    expect(problems).toEqual([]);

    // What the "agent" leaves: a tree without mode bits, a FIFO, a link to a worker file.
    await mkdir(join(place, 'locked', 'inner'), { recursive: true });
    await writeFile(join(place, 'locked', 'inner', 'f'), 'x');
    await exec('chmod', ['000', join(place, 'locked', 'inner'), join(place, 'locked')]);
    await exec('mkfifo', [join(place, 'fifo')]);
    await symlink(join(place, 'before.txt'), join(place, 'link'));
    await writeFile(join(workRoot, 'job-file'), 'the job workspace is not the cleanup’s');

    expect(await cleanup.clean()).toEqual([]);
    expect((await readdir(place)).sort()).toEqual(['before.txt', 'viberator']);
    expect(await readdir(workRoot)).toEqual(['job-file']);
  });

  it('an entry deleted and made again under the same name is new', async () => {
    place = await mkdtemp(join(tmpdir(), 'viberator-place-'));
    await writeFile(join(place, 'reused'), 'before');
    const { cleanup } = await AgentTempCleanup.start({
      identity: sameUser,
      workRoot: join(place, 'absent-root'),
      places: [place],
    });
    await rm(join(place, 'reused'));
    await writeFile(join(place, 'other'), 'keeps the inode from being reused');
    await writeFile(join(place, 'reused'), 'the agent’s now');
    expect(await cleanup.clean()).toEqual([]);
    expect(await readdir(place)).toEqual([]);
  });
});
