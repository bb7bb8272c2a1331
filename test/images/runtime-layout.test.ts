/**
 * What the images run, outside Docker (there is no Docker engine here): the users the
 * Dockerfile creates (its own useradd commands, with test uids as build args), its sudo rule
 * and directories (its own commands, in a private mount namespace so the host's /etc/sudoers.d,
 * /opt and /home stay untouched), its files where its COPY instructions put them (bind mounts
 * of this checkout's build), its ENV, its USER, its WORKDIR, and its ENTRYPOINT + CMD. The
 * built CLI then runs as `viberator` exactly as the image would start it: `doctor`, and a
 * real job in the local world with Claude Code whose agent must run as `viberator-agent`.
 */
import { execFile, execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, rm, stat } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalWorld, startLocalWorld } from '../support/local-world/local-world.js';
import { marksDir } from '../support/marks-dir.js';
import { executionPayload } from '../support/payloads.js';
import { processesOfUid } from '../support/processes.js';
import { plantedSecrets } from '../support/run-cli.js';
import {
  argsOf,
  copiesFrom,
  DOCKER_DIR,
  type Dockerfile,
  envOf,
  execForm,
  finalStage,
  identityOf,
  instructionsOf,
  parseDockerfile,
  ROOT,
  substitute,
} from './dockerfile.js';

const exec = promisify(execFile);
const isRoot = process.getuid?.() === 0;

/** Whether the built CLI (the global setup builds it first) has a command. */
function cliHas(command: string): boolean {
  const cli = join(ROOT, 'dist/cli.js');
  if (!existsSync(cli)) return false;
  const help = execFileSync(process.execPath, [cli, '--help'], { encoding: 'utf8' });
  return new RegExp(`^\\s+${command}\\b`, 'm').test(help);
}

const dockerWorker = parseDockerfile(join(DOCKER_DIR, 'viberator-docker-worker.Dockerfile'));
const ecsWorker = parseDockerfile(join(DOCKER_DIR, 'viberator-ecs-worker.Dockerfile'));
const multiAgent = parseDockerfile(join(DOCKER_DIR, 'viberator-worker-multi-agent.Dockerfile'));
const lambdaImage = parseDockerfile(join(DOCKER_DIR, 'viberator-lambda.Dockerfile'));

/** The mount points the namespace covers with its own empty tmpfs. */
const PRIVATE_DIRS = ['/opt', '/home', '/etc/sudoers.d'];

/**
 * Where a final-stage `COPY --from=<stage> <src>` comes from in this checkout: the build
 * stage's /src is the repository (built by the test setup), the agents stage installs
 * agents/package.json as `npm run agents` does into agents/. Mistral Vibe's uv tree cannot
 * be built here (no Python ≥ 3.12): its COPY is left out, and doctor reports it missing.
 */
function hostSource(from: string, src: string): string | undefined {
  if (from === 'build' && src.startsWith('/src/')) return join(ROOT, src.slice('/src/'.length));
  if (from === 'agents') return join(ROOT, 'agents');
  if (from === 'vibe') return undefined;
  throw new Error(`no host equivalent for COPY --from=${from} ${src}`);
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  result: Record<string, any> | undefined;
}

interface Users {
  worker: { uid: number; gid: number };
  agentUid: number;
}

/**
 * Starts the image's entry command (its ENTRYPOINT with `args`, else its CMD) in a mount
 * namespace that has the image's layout, as the image's USER, with the image's ENV plus
 * `extraEnv` (what `docker run -e` would add).
 */
async function runImage(
  file: Dockerfile,
  users: Users,
  buildArgs: Record<string, string>,
  opts: {
    args?: string[];
    /** Replaces the ENTRYPOINT, as `docker run --entrypoint` does. */
    entrypoint?: string[];
    extraEnv?: Record<string, string>;
    stdin?: string;
  },
): Promise<Run> {
  const final = finalStage(file);
  const env = envOf(final);
  const values = { ...argsOf(final), ...buildArgs, ...env };
  // The setup's own output (visudo prints "parsed OK") goes to stderr; stdout is the CLI's.
  const script = ['set -e', 'exec 3>&1 1>&2'];
  for (const dir of PRIVATE_DIRS) script.push(`mount -t tmpfs -o mode=0755 tmpfs ${dir}`);
  for (const copy of copiesFrom(final)) {
    const source = hostSource(copy.from, copy.src);
    if (!source) continue;
    const isDir = (await stat(source)).isDirectory();
    script.push(
      isDir
        ? `mkdir -p '${copy.dest}'`
        : `mkdir -p '${posix.dirname(copy.dest)}' && touch '${copy.dest}'`,
      `mount --bind '${source}' '${copy.dest}'`,
    );
  }
  for (const command of identityOf(final)?.layoutCommands ?? []) {
    script.push(substitute(command, values));
  }
  const user = instructionsOf(final, 'USER').at(-1)?.args;
  expect(user).toBe('viberator');
  const workdir = instructionsOf(final, 'WORKDIR').at(-1)?.args ?? '/';
  const entry = [
    ...(opts.entrypoint ?? execForm(final, 'ENTRYPOINT') ?? []),
    ...(opts.args ?? execForm(final, 'CMD') ?? []),
  ];
  script.push(
    `cd '${workdir}'`,
    'exec 1>&3 3>&-',
    // setpriv with the user's groups: the worker is in the agent's group, as in the image.
    `exec setpriv --reuid=${users.worker.uid} --regid=${users.worker.gid} --init-groups -- "$@"`,
  );
  return new Promise((done, fail) => {
    const child = spawn(
      'unshare',
      [
        '--mount',
        '--propagation',
        'private',
        '--',
        '/bin/sh',
        '-c',
        script.join('\n'),
        'sh',
        ...entry,
      ],
      { env: { ...env, ...opts.extraEnv }, stdio: ['pipe', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.on('error', fail);
    child.on('close', (code) => {
      clearTimeout(timer);
      let result: Record<string, any> | undefined;
      try {
        result = JSON.parse(stdout);
      } catch {
        result = undefined;
      }
      done({ code, stdout, stderr, result });
    });
    child.stdin.end(opts.stdin ?? '');
  });
}

async function accountExists(kind: 'passwd' | 'group', name: string): Promise<boolean> {
  return exec('getent', [kind, name]).then(
    () => true,
    () => false,
  );
}

describe.runIf(isRoot)('the images’ runtime layout, outside Docker', () => {
  const secrets = plantedSecrets();
  // Build args for the uids, from this run's range (parallel checkouts must not collide).
  const base = Number(process.env.VIBERATOR_TEST_UID_BASE ?? '62000') + 9000;
  const buildArgs = { VIBERATOR_UID: String(base), VIBERATOR_AGENT_UID: String(base + 1) };
  const created: string[] = [];
  let users: Users;
  let world: LocalWorld;
  let marks: string;

  beforeAll(async () => {
    const identity = identityOf(finalStage(dockerWorker));
    const names = (identity?.userCommands ?? []).map((c) => c.split(/\s+/).at(-1) ?? '');
    for (const name of names) {
      if ((await accountExists('passwd', name)) || (await accountExists('group', name))) {
        throw new Error(
          `the user or group ${name} exists on this host already; the test creates it as the image does (remove it, or run the test elsewhere)`,
        );
      }
    }
    // The Dockerfile's own commands, with the test's uids as build args.
    const values = { ...argsOf(finalStage(dockerWorker)), ...buildArgs };
    for (const command of identity?.userCommands ?? []) {
      const name = command.split(/\s+/).at(-1) ?? '';
      if (command.startsWith('useradd') || command.startsWith('groupadd')) created.push(name);
      await exec('/bin/sh', ['-c', substitute(command, values)]);
    }
    const id = async (flag: string, name: string) =>
      Number((await exec('id', [flag, name])).stdout.trim());
    users = {
      worker: { uid: await id('-u', 'viberator'), gid: await id('-g', 'viberator') },
      agentUid: await id('-u', 'viberator-agent'),
    };
    world = await startLocalWorld({ credentials: secrets });
    marks = await marksDir('viberator-image-marks-');
  });

  afterAll(async () => {
    for (const name of ['viberator', 'viberator-agent']) {
      if (!created.includes(name)) continue;
      await exec('pkill', ['-KILL', '-u', name]).catch(() => {});
      await exec('userdel', [name]).catch(() => {});
    }
    for (const name of [...new Set(created)]) await exec('groupdel', [name]).catch(() => {});
    await world?.close();
    if (marks) await rm(marks, { recursive: true, force: true });
  });

  it('creates the users as the Dockerfile says: the worker in the agent group', async () => {
    const { stdout } = await exec('id', ['-nG', 'viberator']);
    expect(stdout.trim().split(/\s+/).sort()).toEqual(['viberator', 'viberator-agent']);
    expect(users.worker.uid).toBe(Number(buildArgs.VIBERATOR_UID));
    expect(users.agentUid).toBe(Number(buildArgs.VIBERATOR_AGENT_UID));
  });

  it('docker worker: doctor as viberator finds Claude Code and the sudo switch to viberator-agent', async () => {
    const run = await runImage(dockerWorker, users, buildArgs, { args: ['doctor'] });
    expect(run.stderr).not.toMatch(/mount: |setpriv: /);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(
      new RegExp(
        `^isolation: agent user: viberator-agent \\(${users.agentUid}:${users.agentUid}\\) through sudo$`,
        'm',
      ),
    );
    expect(run.stdout).toMatch(/claude-code.*\/opt\/viberator\/app\/node_modules\//);
  });

  it('docker worker: its CMD (run --payload -) runs a real job; the agent runs as viberator-agent and leaves nothing', async () => {
    const jobId = 'job_image_docker';
    const prompt = [
      'Do the work.',
      '',
      '[[bash]]',
      `id -un > ${marks}/${jobId}; echo "$HOME" >> ${marks}/${jobId}; setsid sh -c 'sleep 300' </dev/null >/dev/null 2>&1 & echo ok`,
      '[[end]]',
      '[[write notes.txt]]',
      'written by the agent',
      '[[end]]',
      '[[answer]]',
      'Done.',
      '[[end]]',
    ].join('\n');
    const run = await runImage(dockerWorker, users, buildArgs, {
      extraEnv: {
        GITHUB_API_URL: world.github.apiUrl,
        ANTHROPIC_API_KEY: secrets.anthropicKey,
        GITHUB_TOKEN: secrets.githubToken,
      },
      stdin: JSON.stringify(
        executionPayload({ jobId, repoUrl: world.repoUrl, modelUrl: world.model.url, prompt }),
      ),
    });
    expect(run.result?.failure, run.stderr.slice(-3000)).toBeUndefined();
    expect(run.code).toBe(0);
    expect(run.result?.prUrl).toBeDefined();
    const [who, home] = (await readFile(join(marks, jobId), 'utf8')).trim().split('\n');
    expect(who).toBe('viberator-agent');
    // The agent's HOME is inside the job's workspace under the image's work root.
    expect(home).toMatch(
      new RegExp(`^${envOf(finalStage(dockerWorker)).VIBERATOR_WORK_ROOT}/${jobId}/`),
    );
    expect(run.stderr).not.toContain('same-user mode');
    expect(await processesOfUid(users.agentUid)).toEqual([]);
  });

  it('multi-agent: doctor finds the pinned CLIs under VIBERATOR_AGENTS_DIR and a Node for Kimi Code', async () => {
    const run = await runImage(multiAgent, users, buildArgs, { args: ['doctor'] });
    expect(run.code).toBe(0);
    const dir = envOf(finalStage(multiAgent)).VIBERATOR_AGENTS_DIR;
    for (const slug of ['codex', 'gemini-cli', 'qwen-cli', 'opencode', 'kimi-code']) {
      expect(run.stdout).toMatch(new RegExp(`${slug}.*${dir}/node_modules/\\.bin/`));
    }
    expect(run.stdout).toMatch(/^isolation: agent user: viberator-agent .* through sudo$/m);
  });

  it('lambda: doctor as the worker user, in its layout, says same-user mode', async () => {
    // The image's ENTRYPOINT is the runtime interface client (tested with the handler); the
    // CLI beside the handler reports how the agent runs there.
    const run = await runImage(lambdaImage, users, buildArgs, {
      entrypoint: ['node', 'dist/cli.js'],
      args: ['doctor'],
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^isolation: agent user: none — same-user mode/m);
    expect(run.stdout).toMatch(/kimi-code.*\/opt\/viberator\/agents\/node_modules\/\.bin\//);
  });

  // `viberator ecs` is added beside these images (issue 8): this runs once the CLI has it.
  it.runIf(cliHas('ecs'))(
    'ECS worker: its CMD (ecs) runs a job from VIBERATOR_PAYLOAD as the image starts it',
    async () => {
      const jobId = 'job_image_ecs';
      const run = await runImage(ecsWorker, users, buildArgs, {
        extraEnv: {
          GITHUB_API_URL: world.github.apiUrl,
          ANTHROPIC_API_KEY: secrets.anthropicKey,
          GITHUB_TOKEN: secrets.githubToken,
          VIBERATOR_PAYLOAD: JSON.stringify(
            executionPayload({
              jobId,
              repoUrl: world.repoUrl,
              modelUrl: world.model.url,
              prompt: `Do it.\n\n[[bash]]\nid -un > ${marks}/${jobId}\n[[end]]\n[[write ecs.txt]]\nfrom ecs\n[[end]]\n[[answer]]\nDone.\n[[end]]\n`,
            }),
          ),
        },
      });
      expect(run.code, run.stderr.slice(-3000)).toBe(0);
      expect((await readFile(join(marks, jobId), 'utf8')).trim()).toBe('viberator-agent');
      expect(await processesOfUid(users.agentUid)).toEqual([]);
    },
  );
});
