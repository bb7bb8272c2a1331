import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chown, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sysvIpcOf } from '../support/leftover-checks.js';
import { type LocalWorld, startLocalWorld } from '../support/local-world/local-world.js';
import { marksDir } from '../support/marks-dir.js';
import { executionPayload } from '../support/payloads.js';
import { cliEnv, plantedSecrets, runCli, tempDir } from '../support/run-cli.js';
import { asUser, type ThrowawayUser, ThrowawayUsers } from '../support/throwaway-users.js';

const exec = promisify(execFile);
const SCRIPT = resolve(import.meta.dirname, '../fixtures/hostile/temp-files.sh');
const isRoot = process.getuid?.() === 0;

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/**
 * Same-user mode (Lambda) cannot tell the agent's files from the worker's: what it promises
 * is that every top-level entry of the shared places that appeared during the agent run and
 * belongs to the worker's user is gone afterwards, with the new SysV IPC objects — and that
 * what the worker had there before stays. What the agent put inside an entry that was already
 * there stays too: this test pins that limit down as well.
 */
describe.runIf(isRoot)('a hostile agent leaves things behind (same-user worker)', () => {
  const secrets = plantedSecrets();
  const users = new ThrowawayUsers();
  let world: LocalWorld;
  let marks: string;
  let worker: ThrowawayUser;
  let base: string;
  const tag = randomBytes(4).toString('hex');
  const before = `/tmp/vbt-before-${tag}`;
  const shared = `/tmp/vbt-shared-${tag}`;

  beforeAll(async () => {
    world = await startLocalWorld({ credentials: secrets });
    marks = await marksDir('viberator-same-user-marks-');
    worker = await users.create('lsolo');
    base = await tempDir('viberator-same-user-');
    for (const dir of ['work', 'home']) await mkdir(join(base, dir));
    for (const dir of [base, join(base, 'work'), join(base, 'home')])
      await chown(dir, worker.uid, worker.gid);
    // The worker's own, there before the job; and a directory it shares with the agent.
    await writeFile(before, 'the worker had this\n');
    await chown(before, worker.uid, worker.gid);
    await mkdir(shared);
    await chown(shared, worker.uid, worker.gid);
    await exec('chmod', ['0777', shared]);
  });
  afterAll(async () => {
    await users.removeAll();
    await world?.close();
    for (const path of [marks, base, before, shared])
      await exec('rm', ['-rf', '--one-file-system', path]).catch(() => {});
  });

  it('new top-level entries and new IPC objects are gone; what was there before stays', async () => {
    const prompt = `Do the work.\n\n[[bash]]\nsh ${SCRIPT} ${marks} ${tag} ${shared}\n[[end]]\n[[answer]]\nDone.\n[[end]]\n`;
    const run = await runCli(['run', '--payload', '-'], {
      prefix: asUser(worker),
      env: cliEnv({
        VIBERATOR_AGENT_USER: '',
        VIBERATOR_WORK_ROOT: join(base, 'work'),
        HOME: join(base, 'home'),
        GITHUB_API_URL: world.github.apiUrl,
        ANTHROPIC_API_KEY: secrets.anthropicKey,
        GITHUB_TOKEN: secrets.githubToken,
      }),
      stdin: JSON.stringify(
        executionPayload({
          jobId: 'job_same_user_temp',
          repoUrl: world.repoUrl,
          modelUrl: world.model.url,
          prompt,
        }),
      ),
    });
    const made = (await readFile(join(marks, 'made'), 'utf8')).split('\n');
    expect(made).toEqual(expect.arrayContaining([`/tmp/vbt-left-${tag}`, 'tree', 'fifo', 'sysv']));
    expect((await readFile(join(marks, 'agent-uid'), 'utf8')).trim()).toBe(String(worker.uid));
    expect(run.result?.failure).toBeUndefined();

    for (const dir of ['/tmp', '/var/tmp', '/dev/shm', '/run/lock'])
      expect(await exists(`${dir}/vbt-left-${tag}`), dir).toBe(false);
    for (const path of [
      `/tmp/vbt-tree-${tag}`,
      `/var/tmp/vbt-ro-${tag}`,
      `/tmp/vbt-fifo-${tag}`,
      `/dev/shm/vbt-link-${tag}`,
      `/var/tmp/vbt-deep-${tag}`,
    ])
      expect(await exists(path), path).toBe(false);
    expect(await sysvIpcOf(worker.uid)).toEqual([]);
    // What the worker had is untouched, and so is the work root.
    expect(await readFile(before, 'utf8')).toBe('the worker had this\n');
    expect(await exists(join(base, 'work'))).toBe(true);
    // The limit: inside a directory that was there before, the agent's file stays.
    expect(await exists(join(shared, `vbt-inside-${tag}`))).toBe(true);
  }, 120_000);
});
