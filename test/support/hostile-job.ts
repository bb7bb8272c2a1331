/**
 * Helpers of the hostile suites (test/e2e/hostile-*.test.ts): a job whose prompt-injected
 * agent runs one script of test/fixtures/hostile/ through the real Claude Code's Bash tool,
 * as the agent user, against a local world of its own — and the places a leak would show.
 *
 * Every git process here is asynchronous: the git server lives in this process.
 */
import { execFile, spawn } from 'node:child_process';
import { chmod, chown, mkdir, readFile, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { type LocalWorld, startLocalWorld } from './local-world/local-world.js';
import { marksDir } from './marks-dir.js';
import { executionPayload } from './payloads.js';
import { processesWithEnvMarker } from './processes.js';
import { type CliRun, cliEnv, plantedSecrets, runCli, tempDir } from './run-cli.js';
import { asUser, type ThrowawayUser, ThrowawayUsers } from './throwaway-users.js';

const exec = promisify(execFile);

export const isRoot = process.getuid?.() === 0;

/** The branch every hostile job renders (`viberator/{{ ticket }}` with ENG-42). */
export const WORK_BRANCH = 'viberator/ENG-42';

/** A script of test/fixtures/hostile/. */
export function hostileScript(name: string): string {
  return resolve(import.meta.dirname, '../fixtures/hostile', name);
}

/** Quotes one shell word. */
function sh(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** The prompt whose model has the agent run `sh <script> <args…>` once, then answer. */
export function scriptPrompt(script: string, args: string[]): string {
  const command = ['sh', hostileScript(script), ...args].map(sh).join(' ');
  return `Do the work.\n\n[[bash]]\n${command}\n[[end]]\n[[answer]]\nDone.\n[[end]]\n`;
}

/** A non-root worker that starts its agent through a sudo rule (the images' mode). */
export interface SudoMode {
  worker: ThrowawayUser;
  agent: ThrowawayUser;
  workRoot: string;
  home: string;
  users: ThrowawayUsers;
  /** The directory holding the work root and HOME. */
  base: string;
}

/**
 * Creates a worker user and an agent user of their own, the sudo rule, and the worker's work
 * root and HOME; {@link closeSudoMode} removes them.
 */
export async function sudoMode(): Promise<SudoMode> {
  const users = new ThrowawayUsers();
  const agent = await users.create('agent');
  const worker = await users.create('worker', [agent]);
  await users.allowSudo(worker, agent);
  const base = await tempDir('viberator-hostile-sudo-');
  const workRoot = join(base, 'work');
  const home = join(base, 'home');
  await mkdir(workRoot);
  await mkdir(home);
  for (const dir of [base, workRoot, home]) await chown(dir, worker.uid, worker.gid);
  // The agent user must be able to pass through every directory above its workspace.
  await chmod(base, 0o711);
  return { worker, agent, workRoot, home, users, base };
}

export async function closeSudoMode(mode: SudoMode | undefined): Promise<void> {
  if (!mode) return;
  await mode.users.removeAll();
  await rm(mode.base, { recursive: true, force: true });
}

export interface HostileRun {
  run: CliRun;
  world: LocalWorld;
  jobId: string;
  workRoot: string;
  /** The test's directory every user may write: the script records its progress there. */
  marks: string;
  durationMs: number;
  /** The commit `main` pointed at before the job. */
  baseSha: string;
  /** The uid the agent ran as (as the test configured it). */
  agentUid: number | undefined;
}

export interface HostileJobOptions {
  jobId: string;
  script: string;
  /** Arguments after the marks directory. */
  args?: string[];
  /** Extra environment of the worker. */
  env?: Record<string, string>;
  /** Extra payload secrets (beyond the model key and GITHUB_TOKEN). */
  secrets?: Array<Record<string, unknown>>;
  keepWorkspace?: boolean;
  /** The CLI is killed after this long (default 90 s). */
  timeoutMs?: number;
  /** Run the worker as a non-root user with a sudo rule to its agent user. */
  sudo?: SudoMode;
  /** The work root (default: a new one; a retry passes the earlier attempt's). */
  workRoot?: string;
}

/**
 * Starts a local world of the job's own and runs one job whose agent runs the script with
 * `<marks> <args…>`. The world stays up for the assertions: call {@link closeHostile}.
 */
export async function runHostileJob(opts: HostileJobOptions): Promise<HostileRun> {
  const credentials = plantedSecrets();
  const world = await startLocalWorld({ credentials });
  // Under /run: the worker removes the agent user's files in /tmp after the agent.
  const marks = await marksDir('viberator-hostile-marks-');
  const workRoot =
    opts.workRoot ?? opts.sudo?.workRoot ?? (await tempDir('viberator-hostile-work-'));
  const base = {
    VIBERATOR_WORK_ROOT: workRoot,
    GITHUB_API_URL: world.github.apiUrl,
    ANTHROPIC_API_KEY: credentials.anthropicKey,
    GITHUB_TOKEN: credentials.githubToken,
    ...(opts.sudo ? { HOME: opts.sudo.home, VIBERATOR_AGENT_USER: opts.sudo.agent.name } : {}),
    ...opts.env,
  };
  const env = cliEnv(base);
  // cliEnv gives every call its own agent user; the sudo mode names its own.
  if (opts.sudo) env.VIBERATOR_AGENT_USER = opts.sudo.agent.name;
  const agentUid = opts.sudo
    ? opts.sudo.agent.uid
    : env.VIBERATOR_AGENT_USER
      ? Number(String(env.VIBERATOR_AGENT_USER).split(':')[0])
      : undefined;
  const payload = executionPayload({
    jobId: opts.jobId,
    repoUrl: world.repoUrl,
    modelUrl: world.model.url,
    prompt: scriptPrompt(opts.script, [marks, ...(opts.args ?? [])]),
  });
  if (opts.secrets) payload.secrets = [...(payload.secrets as unknown[]), ...opts.secrets];
  const baseSha = await gitOut(world, ['rev-parse', 'refs/heads/main']);
  const started = Date.now();
  const run = await runCli(
    ['run', '--payload', '-', ...(opts.keepWorkspace ? ['--keep-workspace'] : [])],
    {
      env,
      stdin: JSON.stringify(payload),
      timeoutMs: opts.timeoutMs,
      prefix: opts.sudo ? asUser(opts.sudo.worker) : undefined,
    },
  );
  return {
    run,
    world,
    jobId: opts.jobId,
    workRoot,
    marks,
    durationMs: Date.now() - started,
    baseSha: baseSha.trim(),
    agentUid,
  };
}

/**
 * Stops whatever the job left running (a git blocked on a FIFO after the CLI was killed, the
 * agent user's processes), then removes the world, the marks and the work root.
 */
export async function closeHostile(job: HostileRun | undefined): Promise<void> {
  if (!job) return;
  for (const leftover of await processesWithEnvMarker(job.workRoot)) {
    try {
      process.kill(leftover.pid, 'SIGKILL');
    } catch {
      // Gone already.
    }
  }
  if (job.agentUid !== undefined)
    await exec('pkill', ['-KILL', '-U', String(job.agentUid)]).catch(() => {});
  await job.world.close();
  await rm(job.marks, { recursive: true, force: true });
  // GNU rm removes any depth (the agent's chains may be deeper than PATH_MAX).
  await exec('rm', ['-rf', job.workRoot]).catch(() => {});
}

/** What the script recorded in the marks directory (`finished` once it ran to its end). */
export async function mark(job: HostileRun, name: string): Promise<string> {
  return readFile(join(job.marks, name), 'utf8').catch(() => '');
}

/** Runs git in the world's bare repository; stdout. */
export async function gitOut(world: LocalWorld, args: string[]): Promise<string> {
  const { stdout } = await exec('git', ['--git-dir', world.bareRepo, ...args], {
    maxBuffer: 512 * 1024 * 1024,
  });
  return stdout;
}

/** The work branch's commit on the remote, or undefined when nothing was pushed to it. */
export async function remoteBranchSha(world: LocalWorld): Promise<string | undefined> {
  const refs = await gitOut(world, [
    'for-each-ref',
    '--format=%(objectname)',
    `refs/heads/${WORK_BRANCH}`,
  ]);
  return refs.trim() || undefined;
}

/** `git ls-tree -r` of the pushed work branch: `<mode> <type> <id>\t<path>` lines. */
export async function pushedTree(world: LocalWorld): Promise<string[]> {
  if (!(await remoteBranchSha(world))) return [];
  const out = await gitOut(world, ['ls-tree', '-r', '--full-tree', `refs/heads/${WORK_BRANCH}`]);
  return out.split('\n').filter(Boolean);
}

/** The paths of the pushed work branch. */
export async function pushedPaths(world: LocalWorld): Promise<string[]> {
  return (await pushedTree(world)).map((line) => line.slice(line.indexOf('\t') + 1));
}

/** Every object the remote holds, raw (`cat-file --batch-all-objects --batch`). */
export async function remoteObjects(world: LocalWorld): Promise<Buffer> {
  return new Promise((done, fail) => {
    const child = spawn(
      'git',
      ['--git-dir', world.bareRepo, 'cat-file', '--batch-all-objects', '--batch'],
      { stdio: ['ignore', 'pipe', 'ignore'] },
    );
    const chunks: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
    child.on('error', fail);
    child.on('close', () => done(Buffer.concat(chunks)));
  });
}

/**
 * Everything the job reported or left outside its workspace, as text: stdout (the Result),
 * stderr (logs and events), the pull requests and the requests the SCM saw, and every
 * commit message on the remote.
 */
export async function reportedSurfaces(job: HostileRun): Promise<Record<string, string>> {
  return {
    stdout: job.run.stdout,
    stderr: job.run.stderr,
    pulls: JSON.stringify(job.world.github.pulls),
    githubRequests: JSON.stringify(job.world.github.requests),
    commitMessages: await gitOut(job.world, ['log', '--all', '--format=%H %an %ae %cn %ce%n%B']),
  };
}

/** The job's failure, for messages. */
export function outcome(job: HostileRun): string {
  const failure = job.run.result?.failure;
  return failure
    ? `failed ${failure.code}: ${failure.message}`
    : `exit ${job.run.code}${job.run.result ? '' : ' (no Result: the CLI was killed)'}`;
}

/** Runs git (outside any repository) with `input` on stdin; stdout. */
export function gitWithInput(args: string[], input: string): Promise<string> {
  return new Promise((done, fail) => {
    const child = spawn('git', args, { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
    });
    child.on('error', fail);
    child.on('close', (code) =>
      code === 0 ? done(out) : fail(new Error(`git ${args.join(' ')} exited ${code}`)),
    );
    child.stdin.end(input);
  });
}
