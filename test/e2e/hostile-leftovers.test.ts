import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chown, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pathsOwnedBy, sysvIpcOf } from '../support/leftover-checks.js';
import { type LocalWorld, startLocalWorld } from '../support/local-world/local-world.js';
import { marksDir } from '../support/marks-dir.js';
import { executionPayload } from '../support/payloads.js';
import { cliEnv, plantedSecrets, runCli, tempDir } from '../support/run-cli.js';
import { asUser, ThrowawayUsers } from '../support/throwaway-users.js';

const exec = promisify(execFile);
const FIXTURES = resolve(import.meta.dirname, '../fixtures/hostile');
const isRoot = process.getuid?.() === 0;
/** Another user's files in the shared places: the worker must leave them alone. */
const BYSTANDER_UID = 61997;

/** How the worker runs: as root (agent uid given directly), or as a user with a sudo rule. */
interface WorkerSetup {
  agentUid: number;
  agentGid: number;
  workRoot: string;
  /** What the test removes afterwards (the work root, or the directory holding it). */
  scratch: string;
  env: Record<string, string>;
  prefix?: string[];
}

/** `rm -rf` as root: Node's own rm cannot remove a 3,000-level chain. */
async function removeTree(path: string): Promise<void> {
  await exec('rm', ['-rf', '--one-file-system', '--', path]).catch(() => {});
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/**
 * The agent is untrusted (runtime.md): whatever a prompt-injected agent leaves behind — a
 * workspace no ordinary removal gets through, files in the host's shared writable places,
 * SysV IPC objects — is gone when the job ends, and a retry of the job is not stopped by it.
 * Run by the real Claude Code CLI's Bash tool as the agent user, in both switching modes.
 */
describe.runIf(isRoot).each(['root', 'sudo'] as const)(
  'a hostile agent leaves things behind (%s worker)',
  (mode) => {
    const secrets = plantedSecrets();
    const users = new ThrowawayUsers();
    let world: LocalWorld;
    let marks: string;
    let setup: WorkerSetup;
    const cleanups: Array<() => Promise<unknown>> = [];

    beforeAll(async () => {
      world = await startLocalWorld({ credentials: secrets });
      marks = await marksDir('viberator-leftover-marks-');
      setup = mode === 'root' ? await rootSetup() : await sudoSetup(users);
    });
    afterAll(async () => {
      await exec('pkill', ['-KILL', '-U', String(setup?.agentUid)]).catch(() => {});
      for (const cleanup of cleanups) await cleanup().catch(() => {});
      await users.removeAll();
      await world?.close();
      await removeTree(marks);
      if (setup) await removeTree(setup.scratch);
    });

    function runJob(jobId: string, script: string, args: string[], keep: boolean) {
      const prompt = `Do the work.\n\n[[bash]]\nsh ${join(FIXTURES, script)} ${[marks, ...args].join(' ')}\n[[end]]\n[[answer]]\nDone.\n[[end]]\n`;
      return runCli(['run', '--payload', '-', ...(keep ? ['--keep-workspace'] : [])], {
        prefix: setup.prefix,
        timeoutMs: 150_000,
        env: cliEnv({
          ...setup.env,
          VIBERATOR_WORK_ROOT: setup.workRoot,
          GITHUB_API_URL: world.github.apiUrl,
          ANTHROPIC_API_KEY: secrets.anthropicKey,
          GITHUB_TOKEN: secrets.githubToken,
        }),
        stdin: JSON.stringify(
          executionPayload({ jobId, repoUrl: world.repoUrl, modelUrl: world.model.url, prompt }),
        ),
      });
    }

    it('a retry over a kept workspace of any depth and mode bits succeeds, and removes it', async () => {
      const kept = await runJob(`job_retry_${mode}`, 'leftovers.sh', [], true);
      expect((await readFile(join(marks, 'made'), 'utf8')).split('\n')).toEqual(
        expect.arrayContaining([
          'home-chain',
          'checkout-chain',
          'checkout-000',
          'tmp-000',
          'readonly',
        ]),
      );
      expect((await readFile(join(marks, 'agent-uid'), 'utf8')).trim()).toBe(
        String(setup.agentUid),
      );
      expect(kept.result?.failure).toBeUndefined();
      expect(await exists(join(setup.workRoot, `job_retry_${mode}`, 'home', 'deep'))).toBe(true);
      // The same job again, over the first attempt's leftovers: it runs, and (without
      // --keep-workspace) leaves nothing.
      const retry = await runJob(`job_retry_${mode}`, 'leftovers.sh', [], false);
      expect(retry.result?.failure).toBeUndefined();
      expect(retry.code).toBe(0);
      expect(await readdir(setup.workRoot)).toEqual([]);
    }, 300_000);

    it("its files in /tmp, /var/tmp, /dev/shm and /run/lock and its SysV IPC objects are gone; other users' are not touched", async () => {
      const tag = randomBytes(4).toString('hex');
      const shared = `/tmp/vbt-shared-${tag}`;
      await mkdir(shared);
      await chown(shared, BYSTANDER_UID, BYSTANDER_UID);
      await exec('chmod', ['0777', shared]);
      const bystanders = [
        `/tmp/vbt-other-${tag}`,
        `/var/tmp/vbt-other-${tag}`,
        `/dev/shm/vbt-other-${tag}`,
      ];
      for (const path of bystanders) {
        await writeFile(path, "not the agent's\n");
        await chown(path, BYSTANDER_UID, BYSTANDER_UID);
      }
      const bystanderShm = (
        await exec('setpriv', [
          `--reuid=${BYSTANDER_UID}`,
          `--regid=${BYSTANDER_UID}`,
          '--clear-groups',
          'ipcmk',
          '-M',
          '4096',
        ])
      ).stdout.match(/(\d+)\s*$/)?.[1];
      cleanups.push(async () => {
        for (const path of [...bystanders, shared]) await removeTree(path);
        if (bystanderShm) await exec('ipcrm', ['-m', bystanderShm]);
      });

      const run = await runJob(`job_temp_${mode}`, 'temp-files.sh', [tag, shared], false);
      const made = (await readFile(join(marks, 'made'), 'utf8')).split('\n');
      expect(made).toEqual(
        expect.arrayContaining([
          `/tmp/vbt-left-${tag}`,
          `/var/tmp/vbt-left-${tag}`,
          `/dev/shm/vbt-left-${tag}`,
          'tree',
          'fifo',
          'link',
          'inside',
          'deep',
          'sysv',
        ]),
      );
      expect(run.result?.failure).toBeUndefined();
      expect(run.code).toBe(0);

      // Nothing of the agent's is left in the shared places, nor any IPC object of its user.
      expect(await pathsOwnedBy(setup.agentUid, setup.agentGid, [setup.workRoot])).toEqual([]);
      expect(await sysvIpcOf(setup.agentUid)).toEqual([]);
      // What other users had there is untouched.
      for (const path of bystanders) expect(await readFile(path, 'utf8')).toBe("not the agent's\n");
      expect(await exists(shared)).toBe(true);
      expect(await sysvIpcOf(BYSTANDER_UID)).toContain(`shm ${bystanderShm}`);
    }, 200_000);
  },
);

async function rootSetup(): Promise<WorkerSetup> {
  const agentUid = 61991;
  const workRoot = await tempDir('viberator-leftover-work-');
  return {
    agentUid,
    agentGid: agentUid,
    workRoot,
    scratch: workRoot,
    env: { VIBERATOR_AGENT_USER: `${agentUid}:${agentUid}` },
  };
}

/** A worker user with a sudo rule for an agent user, and a work root and HOME of its own. */
async function sudoSetup(users: ThrowawayUsers): Promise<WorkerSetup> {
  const agent = await users.create('lagent');
  const worker = await users.create('lworker', [agent]);
  await users.allowSudo(worker, agent);
  const base = await tempDir('viberator-leftover-sudo-');
  const workRoot = join(base, 'work');
  const home = join(base, 'home');
  await mkdir(workRoot);
  await mkdir(home);
  for (const dir of [base, workRoot, home]) await chown(dir, worker.uid, worker.gid);
  await exec('chmod', ['0711', base]);
  return {
    agentUid: agent.uid,
    agentGid: agent.gid,
    workRoot,
    scratch: base,
    env: { VIBERATOR_AGENT_USER: agent.name, HOME: home },
    prefix: asUser(worker),
  };
}
