import { HOST_NETWORK_VARIABLES, pickHostVariables } from '../config/host-variables.js';
import { WorkerError } from '../errors.js';
import { type CommandStoppedError, runCommand } from '../process/run-command.js';
import { gitAuthConfig } from './git-auth.js';

/** Bounds of every git command the worker runs. */
export interface GitLimits {
  /** Wall clock of a command that talks to the remote (clone, ls-remote, push). */
  networkMs: number;
  /** Wall clock of a local command (add, commit, log, …). */
  localMs: number;
  /** Seconds a transfer may make no progress before git gives up (http.lowSpeedTime). */
  stallSeconds: number;
}

/** How the worker's git reaches the repository, who it is, and where its state lives. */
export interface GitSetup {
  /** Remote URL or local path, as git sees it (never with credentials). */
  source: string;
  /** Set for remotes: the URL the token is scoped to. */
  remoteUrl?: URL;
  token?: string;
  /** The payload secret that holds the token, for messages (`GITHUB_TOKEN`, `GITLAB_TOKEN`, …). */
  tokenSecret: string;
  /** The user name git sends with the token (the SCM's documented form). */
  gitUsername: string;
  author: { name: string; email: string };
  /** Host variables git may need (PATH, proxies, CA bundle). */
  hostEnv: NodeJS.ProcessEnv;
  /** The worker's private HOME for git: nothing of the host's or the agent's ~/.gitconfig. */
  home: string;
  /** The worker's own git dir, which the agent can read but never write. */
  gitDir: string;
  /** The checkout (the agent's). */
  workTree: string;
  limits: GitLimits;
  /** Aborted when the worker is asked to stop: the running git command is stopped. */
  signal?: AbortSignal;
}

/**
 * Configuration given on git's command line (GIT_CONFIG_COUNT, the "command" scope, which
 * beats every file): whatever a config file says, no hook, fsmonitor, credential helper or
 * attributes file of anyone else's acts in a worker git command. The files themselves are
 * kept out too: no system or global config, the worker's own git dir and HOME.
 */
export const GIT_HARDENING: Array<[string, string]> = [
  ['core.hooksPath', '/dev/null'],
  ['core.fsmonitor', 'false'],
  ['core.untrackedCache', 'false'],
  ['core.attributesFile', '/dev/null'],
  ['core.excludesFile', '/dev/null'],
  ['credential.helper', ''],
  ['core.sshCommand', 'false'],
  ['protocol.ext.allow', 'never'],
  // The checkout belongs to the agent user; the worker reads it on purpose.
  ['safe.directory', '*'],
];

/** The environment of a worker git process; `config` pairs go in as command-line config. */
export function workerGitEnv(
  setup: GitSetup,
  config: Array<[string, string]>,
): Record<string, string> {
  return {
    ...pickHostVariables(setup.hostEnv, HOST_NETWORK_VARIABLES),
    ...isolatedGitEnv(setup.home, setup.author, config),
  };
}

/**
 * What every git process the worker starts runs with, whoever it runs as: no system, global
 * or XDG config (HOME is `home`), no replace refs, no prompt, the worker's identity, and the
 * hardening plus `config` as command-line config, which no file can override.
 */
export function isolatedGitEnv(
  home: string,
  author: { name: string; email: string },
  config: Array<[string, string]>,
): Record<string, string> {
  const env: Record<string, string> = {
    HOME: home,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_ATTR_NOSYSTEM: '1',
    GIT_TERMINAL_PROMPT: '0',
    GIT_NO_REPLACE_OBJECTS: '1',
    GIT_AUTHOR_NAME: author.name,
    GIT_AUTHOR_EMAIL: author.email,
    GIT_COMMITTER_NAME: author.name,
    GIT_COMMITTER_EMAIL: author.email,
  };
  return Object.assign(env, commandLineConfig([...GIT_HARDENING, ...config]));
}

/** `key=value` pairs as git's command-line configuration (GIT_CONFIG_COUNT and friends). */
export function commandLineConfig(pairs: Array<[string, string]>): Record<string, string> {
  const env: Record<string, string> = { GIT_CONFIG_COUNT: String(pairs.length) };
  pairs.forEach(([key, value], index) => {
    env[`GIT_CONFIG_KEY_${index}`] = key;
    env[`GIT_CONFIG_VALUE_${index}`] = value;
  });
  return env;
}

/** A git command that exited non-zero; `stderr` is git's own words. */
export class GitCommandError extends Error {
  constructor(
    readonly args: string[],
    readonly exitCode: number,
    readonly stderr: string,
  ) {
    super(stderr.trim() || `git ${args[0]} exited with ${exitCode}`);
    this.name = 'GitCommandError';
  }
}

export interface GitRunOptions {
  /** Talks to the remote: the token (if any) and the network bounds apply. */
  network?: boolean;
  /** Run in the worker's git dir with the checkout as work tree (default true). */
  inRepository?: boolean;
  /**
   * In the worker's git dir without the checkout as work tree: after the agent step every
   * worker git command reads objects only, never a file the agent left.
   */
  objectsOnly?: boolean;
  cwd?: string;
  input?: string;
  /** Exit codes that are answers, not failures (`diff --quiet` → 1). */
  okExitCodes?: number[];
  /** Extra GIT_* variables (e.g. GIT_ALTERNATE_OBJECT_DIRECTORIES). */
  env?: Record<string, string>;
  /** An open file to read stdin from (instead of `input`). */
  inputFd?: number;
  /** Keep stdout as bytes (`stdoutBytes`). */
  bytes?: boolean;
  /** Wall clock of this command, instead of the setup's limit. */
  timeoutMs?: number;
}

/**
 * Runs one worker git command, bounded by the setup's limits and the job's stop signal.
 * Resolves with stdout and the exit code; throws {@link GitCommandError} for a failure and
 * `cancelled` / a stall as {@link CommandStoppedError}, which the steps turn into codes.
 */
export async function git(
  setup: GitSetup,
  args: string[],
  opts: GitRunOptions = {},
): Promise<{ stdout: string; exitCode: number; stdoutBytes?: Buffer }> {
  const config: Array<[string, string]> = [];
  if (opts.network) {
    config.push(...gitAuthConfig(setup.remoteUrl, setup.token, setup.gitUsername));
    // A transfer that makes no progress for stallSeconds ends instead of hanging.
    config.push(
      ['http.lowSpeedLimit', '1'],
      ['http.lowSpeedTime', String(setup.limits.stallSeconds)],
    );
  }
  const env = workerGitEnv(setup, config);
  if (opts.inRepository !== false) {
    env.GIT_DIR = setup.gitDir;
    if (!opts.objectsOnly) env.GIT_WORK_TREE = setup.workTree;
  }
  Object.assign(env, opts.env);
  const outcome = await runCommand(
    {
      file: 'git',
      args,
      cwd: opts.cwd ?? (opts.objectsOnly ? setup.gitDir : setup.workTree),
      env,
      stdin: opts.input,
      stdinFd: opts.inputFd,
    },
    {
      timeoutMs: opts.timeoutMs ?? (opts.network ? setup.limits.networkMs : setup.limits.localMs),
      signal: setup.signal,
      name: `git ${args[0]}`,
      bytes: opts.bytes,
    },
  );
  if (outcome.exitCode !== 0 && !(opts.okExitCodes ?? []).includes(outcome.exitCode)) {
    throw new GitCommandError(args, outcome.exitCode, outcome.stderr);
  }
  return { stdout: outcome.stdout, exitCode: outcome.exitCode, stdoutBytes: outcome.stdoutBytes };
}

/** A stopped git command as the worker reports it: `cancelled`, or a timeout in `code`. */
export function stoppedGitError(
  error: CommandStoppedError,
  code: 'clone_failed' | 'push_failed' | 'internal_error',
  action: string,
): WorkerError {
  if (error.reason === 'aborted') {
    return new WorkerError('cancelled', `the worker was asked to stop (SIGTERM) during ${action}`);
  }
  return new WorkerError(
    code,
    `${action} failed: ${error.message} (VIBERATOR_GIT_TIMEOUT); the git server may be slow or unreachable`,
    { retryable: true, cause: error },
  );
}
