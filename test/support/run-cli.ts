import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const CLI = resolve(import.meta.dirname, '../../dist/cli.js');

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** The Result JSON from stdout, when it parses. */
  result: Record<string, any> | undefined;
  /** Event lines of the progress view on stderr (`viberator: …`). */
  progress: string[];
}

/** Runs the built CLI as a real process: `node dist/cli.js <args>`. */
export function runCli(
  args: string[],
  opts: {
    env: NodeJS.ProcessEnv;
    stdin?: string;
    onSpawn?: (pid: number) => void;
    timeoutMs?: number;
    /** A command that starts the CLI for the test (e.g. setpriv as another user). */
    prefix?: string[];
  },
): Promise<CliRun> {
  return new Promise((done, fail) => {
    const [file, ...pre] = [...(opts.prefix ?? []), process.execPath, CLI, ...args];
    const child = spawn(file ?? process.execPath, pre, {
      env: opts.env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 90_000);
    child.on('error', fail);
    child.on('spawn', () => child.pid && opts.onSpawn?.(child.pid));
    child.on('close', (code) => {
      clearTimeout(timer);
      let result: Record<string, any> | undefined;
      try {
        result = JSON.parse(stdout);
      } catch {
        result = undefined;
      }
      const progress = stderr.split('\n').filter((line) => line.startsWith('viberator: '));
      done({ code, stdout, stderr, result, progress });
    });
    child.stdin.end(opts.stdin ?? '');
  });
}

/** Secret values planted by a test, unique per run so a hit can only come from a leak. */
export function plantedSecrets(): { githubToken: string; anthropicKey: string } {
  return {
    githubToken: `ghs_planted${randomBytes(16).toString('hex')}`,
    anthropicKey: `sk-ant-planted${randomBytes(16).toString('hex')}`,
  };
}

export async function tempDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

let agentUsers = 0;

/**
 * A uid:gid for one job's agent, unique among the jobs tests run at the same time: the
 * worker stops every process of its agent user, so concurrent jobs must not share one.
 * Only a root worker switches users; elsewhere the variable stays unset (same-user mode).
 */
export function uniqueAgentUser(): Record<string, string> {
  if (process.getuid?.() !== 0) return {};
  const pool = Number(process.env.VITEST_POOL_ID ?? '1') % 40;
  // VIBERATOR_TEST_UID_BASE separates test runs that share the machine (parallel checkouts).
  const base = Number(process.env.VIBERATOR_TEST_UID_BASE ?? '62000');
  const uid = base + pool * 50 + (agentUsers++ % 50);
  return { VIBERATOR_AGENT_USER: `${uid}:${uid}` };
}

/**
 * The minimal host environment a test gives the CLI, plus its own variables. Each call gets
 * its own agent user (see {@link uniqueAgentUser}); `VIBERATOR_AGENT_USER: ''` in `extra`
 * asks for the worker's default.
 */
export function cliEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '/tmp',
    LANG: 'C.UTF-8',
    ...uniqueAgentUser(),
    ...extra,
  };
}

/** The environment of a job against a local world: its API base and its planted credentials. */
export function worldEnv(
  world: { github: { apiUrl: string }; credentials: { githubToken: string; anthropicKey: string } },
  workRoot: string,
  extra: Record<string, string> = {},
): NodeJS.ProcessEnv {
  return cliEnv({
    VIBERATOR_WORK_ROOT: workRoot,
    GITHUB_API_URL: world.github.apiUrl,
    ANTHROPIC_API_KEY: world.credentials.anthropicKey,
    GITHUB_TOKEN: world.credentials.githubToken,
    ...extra,
  });
}
