import { type ChildProcess, spawn } from 'node:child_process';
import { chmod, chown, mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_AGENT_UID } from '../../src/isolation/agent-identity.js';
import { type LocalWorld, startLocalWorld } from '../support/local-world/local-world.js';
import { marksDir } from '../support/marks-dir.js';
import { executionPayload } from '../support/payloads.js';
import { processesOfUid } from '../support/processes.js';
import { cliEnv, plantedSecrets, runCli, tempDir } from '../support/run-cli.js';
import { asUser, type ThrowawayUser, ThrowawayUsers } from '../support/throwaway-users.js';

const isRoot = process.getuid?.() === 0;

/**
 * A prompt whose agent records its uid, leaves a process behind in a session of its own and
 * writes a file: the job must run it as the agent user and stop the leftover.
 */
function agentPrompt(marks: string, name: string): string {
  return [
    'Do the work.',
    '',
    '[[bash]]',
    `id -u > ${marks}/${name}; setsid sh -c 'sleep 300' </dev/null >/dev/null 2>&1 & echo ok`,
    '[[end]]',
    '[[write notes.txt]]',
    'written by the agent',
    '[[end]]',
    '[[answer]]',
    'Done.',
    '[[end]]',
  ].join('\n');
}

describe.runIf(isRoot)('who the agent runs as', () => {
  const secrets = plantedSecrets();
  const users = new ThrowawayUsers();
  let world: LocalWorld;
  let marks: string;

  beforeAll(async () => {
    world = await startLocalWorld({ credentials: secrets });
    marks = await marksDir('viberator-user-marks-');
  });
  afterAll(async () => {
    await users.removeAll();
    await world?.close();
    await rm(marks, { recursive: true, force: true });
  });

  /** A work root and HOME owned by `user`, for a worker that runs as it. */
  async function homeFor(user: ThrowawayUser): Promise<{ workRoot: string; home: string }> {
    const base = await tempDir('viberator-user-');
    const workRoot = join(base, 'work');
    const home = join(base, 'home');
    await mkdir(workRoot);
    await mkdir(home);
    for (const dir of [base, workRoot, home]) await chown(dir, user.uid, user.gid);
    // The agent user must be able to pass through every directory above its workspace.
    await chmod(base, 0o711);
    return { workRoot, home };
  }

  function jobEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
    return cliEnv({
      GITHUB_API_URL: world.github.apiUrl,
      ANTHROPIC_API_KEY: secrets.anthropicKey,
      GITHUB_TOKEN: secrets.githubToken,
      ...extra,
    });
  }

  /** Runs the job `jobId` (its agent records its uid under that name) with `env`. */
  function runJob(jobId: string, env: Record<string, string>, user?: ThrowawayUser) {
    return runCli(['run', '--payload', '-'], {
      prefix: user ? asUser(user) : undefined,
      env: jobEnv(env),
      stdin: JSON.stringify(
        executionPayload({
          jobId,
          repoUrl: world.repoUrl,
          modelUrl: world.model.url,
          prompt: agentPrompt(marks, jobId),
        }),
      ),
    });
  }

  it('a non-root worker with a sudo rule runs the agent as the agent user, and leaves nothing behind', async () => {
    const agent = await users.create('agent');
    const worker = await users.create('worker', [agent]);
    await users.allowSudo(worker, agent);
    const { workRoot, home } = await homeFor(worker);
    const run = await runJob(
      'job_sudo',
      { VIBERATOR_WORK_ROOT: workRoot, HOME: home, VIBERATOR_AGENT_USER: agent.name },
      worker,
    );
    expect(run.result?.failure).toBeUndefined();
    expect(run.code).toBe(0);
    expect(run.result?.prUrl).toBeDefined();
    expect((await readFile(join(marks, run.result?.jobId ?? ''), 'utf8')).trim()).toBe(
      String(agent.uid),
    );
    expect(await processesOfUid(agent.uid)).toEqual([]);
    // The workspace is gone, the agent's own files in it included.
    expect(await readdir(workRoot)).toEqual([]);
    expect(run.stderr).not.toContain('same-user mode');
  });

  it('a non-root worker without a way to switch runs in same-user mode: warned once, shown by doctor', async () => {
    const worker = await users.create('solo');
    const { workRoot, home } = await homeFor(worker);
    const run = await runJob(
      'job_same_user',
      { VIBERATOR_WORK_ROOT: workRoot, HOME: home, VIBERATOR_AGENT_USER: '' },
      worker,
    );
    expect(run.result?.failure).toBeUndefined();
    expect(run.code).toBe(0);
    expect((await readFile(join(marks, run.result?.jobId ?? ''), 'utf8')).trim()).toBe(
      String(worker.uid),
    );
    expect(run.stderr.match(/same-user mode/g)).toHaveLength(1);
    // Best effort in this mode, but the leftover carried the run's marker and is gone.
    expect(await processesOfUid(worker.uid)).toEqual([]);

    const doctor = await runCli(['doctor'], {
      prefix: asUser(worker),
      env: cliEnv({ HOME: home, VIBERATOR_AGENT_USER: '' }),
    });
    expect(doctor.stdout).toMatch(/^isolation: .*same-user mode/m);
    expect(doctor.stdout).toMatch(/^temp cleanup: same-user mode — .*new top-level entries/m);
  });

  it('VIBERATOR_AGENT_USER that sudo does not allow: a clear, non-retryable error before the clone', async () => {
    const agent = await users.create('other');
    const worker = await users.create('nosudo');
    const { workRoot, home } = await homeFor(worker);
    const run = await runJob(
      'job_no_rule',
      { VIBERATOR_WORK_ROOT: workRoot, HOME: home, VIBERATOR_AGENT_USER: agent.name },
      worker,
    );
    expect(run.code).toBe(1);
    expect(run.result?.failure).toMatchObject({
      code: 'internal_error',
      retryable: false,
      step: 'initialising_agent',
    });
    expect(run.result?.failure.message).toContain(`sudo -n -u ${agent.name}`);
    expect(run.result?.failure.message).toContain('sudoers');
  });

  describe('as root', () => {
    let squatter: ChildProcess | undefined;
    afterAll(() => {
      squatter?.kill('SIGKILL');
    });

    it('without VIBERATOR_AGENT_USER the agent runs as the reserved uid', async () => {
      const workRoot = await tempDir('viberator-reserved-');
      const run = await runJob('job_reserved', {
        VIBERATOR_WORK_ROOT: workRoot,
        VIBERATOR_AGENT_USER: '',
      });
      expect(run.result?.failure).toBeUndefined();
      expect((await readFile(join(marks, run.result?.jobId ?? ''), 'utf8')).trim()).toBe(
        String(DEFAULT_AGENT_UID),
      );
      expect(await processesOfUid(DEFAULT_AGENT_UID)).toEqual([]);
      await rm(workRoot, { recursive: true, force: true });
    });

    it('refuses the reserved uid while a process of it runs, naming the fix', async () => {
      squatter = spawn('sleep', ['60'], { uid: DEFAULT_AGENT_UID, gid: DEFAULT_AGENT_UID });
      const workRoot = await tempDir('viberator-reserved-');
      const run = await runJob('job_squatted', {
        VIBERATOR_WORK_ROOT: workRoot,
        VIBERATOR_AGENT_USER: '',
      });
      squatter.kill('SIGKILL');
      expect(run.code).toBe(1);
      expect(run.result?.failure).toMatchObject({ code: 'internal_error', retryable: false });
      expect(run.result?.failure.message).toContain(`reserved agent uid ${DEFAULT_AGENT_UID}`);
      expect(run.result?.failure.message).toContain('VIBERATOR_AGENT_USER');
      // Nothing was cloned.
      expect(await readdir(workRoot)).toEqual([]);
      await rm(workRoot, { recursive: true, force: true });
    });

    it('a configured agent user: processes an earlier job left are stopped before this one runs', async () => {
      const uid = 61977;
      const leftover = spawn('setsid', ['sleep', '120'], { uid, gid: uid, stdio: 'ignore' });
      await new Promise((r) => setTimeout(r, 200));
      expect((await processesOfUid(uid)).length).toBeGreaterThan(0);
      const workRoot = await tempDir('viberator-leftover-');
      const run = await runJob('job_leftover', {
        VIBERATOR_WORK_ROOT: workRoot,
        VIBERATOR_AGENT_USER: `${uid}:${uid}`,
      });
      leftover.kill('SIGKILL');
      expect(run.result?.failure).toBeUndefined();
      expect(run.stderr).toContain('stopping processes the agent user left running');
      expect(await processesOfUid(uid)).toEqual([]);
      await rm(workRoot, { recursive: true, force: true });
    });

    it('refuses nobody, which other programs share', async () => {
      const workRoot = await tempDir('viberator-nobody-');
      const run = await runJob('job_nobody', {
        VIBERATOR_WORK_ROOT: workRoot,
        VIBERATOR_AGENT_USER: 'nobody',
      });
      expect(run.result?.failure).toMatchObject({ code: 'internal_error', retryable: false });
      expect(run.result?.failure.message).toContain('nobody');
      await rm(workRoot, { recursive: true, force: true });
    });
  });
});
