import { z } from 'zod';
import { type AgentSearch, pinnedAgentsBinDir } from '../agents/locate-binary.js';
import { WorkerError } from '../errors.js';
import { type ChangeLimits, DEFAULT_CHANGE_LIMITS } from '../git/change-limits.js';
import type { GitLimits } from '../git/git-runner.js';

const envSchema = z.object({
  VIBERATOR_WORK_ROOT: z.string().min(1).default('/tmp/viberator-work'),
  VIBERATOR_LOG_LEVEL: z.enum(['error', 'warn', 'info', 'debug']).default('info'),
  VIBERATOR_LOG_FORMAT: z.enum(['json', 'pretty']).optional(),
  VIBERATOR_GIT_AUTHOR_NAME: z.string().min(1).default('Viberator'),
  VIBERATOR_GIT_AUTHOR_EMAIL: z.string().min(1).default('viberator@users.noreply.github.com'),
  /** Overrides GitHub's API base (default derived from the repository's host). */
  GITHUB_API_URL: z.url().optional(),
  VIBERATOR_S3_FORCE_PATH_STYLE: z.enum(['true', 'false']).default('false'),
  /** Longest silence of an agent before it is stopped, seconds (the spec leaves the figure open). */
  VIBERATOR_AGENT_INACTIVITY_TIMEOUT: z.coerce.number().int().positive().default(600),
  /** Seconds between SIGTERM and SIGKILL when an agent is stopped. */
  VIBERATOR_KILL_GRACE: z.coerce.number().positive().default(10),
  /** Limit of each attempt of each GitHub API request, seconds. */
  VIBERATOR_HTTP_TIMEOUT: z.coerce.number().positive().default(30),
  /** Wall clock of a git command that talks to the remote (clone, push), seconds. */
  VIBERATOR_GIT_TIMEOUT: z.coerce.number().positive().default(1800),
  /** Seconds a git transfer may make no progress before it is given up. */
  VIBERATOR_GIT_STALL_TIMEOUT: z.coerce.number().int().positive().default(60),
  /** Longest pause between two POSTs to the platform's /events while a job runs, seconds. */
  VIBERATOR_HEARTBEAT_INTERVAL: z.coerce.number().positive().max(15).default(15),
  /** How long the Result is retried before it is spooled, seconds (platform-api.md: 5 minutes). */
  VIBERATOR_RESULT_DEADLINE: z.coerce.number().positive().default(300),
  /** Largest file a change may add, bytes (GitHub refuses files over 100 MiB). */
  VIBERATOR_MAX_FILE_SIZE: z.coerce
    .number()
    .int()
    .positive()
    .default(DEFAULT_CHANGE_LIMITS.maxFileBytes),
  /** All changed files of a change together, bytes (a sparse file at its full size). */
  VIBERATOR_MAX_CHANGE_SIZE: z.coerce
    .number()
    .int()
    .positive()
    .default(DEFAULT_CHANGE_LIMITS.maxTotalBytes),
  /** Files a change may add or modify. */
  VIBERATOR_MAX_CHANGED_FILES: z.coerce
    .number()
    .int()
    .positive()
    .default(DEFAULT_CHANGE_LIMITS.maxFiles),
  /** Seconds staging and checking what the agent left may take. */
  VIBERATOR_STAGE_TIMEOUT: z.coerce
    .number()
    .positive()
    .default(DEFAULT_CHANGE_LIMITS.stageMs / 1000),
  /** The user the agent runs as (name or uid:gid); runtime.md "The agent is untrusted". */
  VIBERATOR_AGENT_USER: z.preprocess(
    (value) => (value === '' ? undefined : value),
    z
      .string()
      .regex(/^([a-z_][a-z0-9_.-]*[$]?|\d+:\d+)$/i)
      .optional(),
  ),
});

type EnvVariable = keyof z.infer<typeof envSchema>;

/**
 * What each variable accepts, in words, for the message of an invalid environment. The
 * value itself is not repeated: a misplaced value may be a credential.
 */
const ALLOWED: Record<EnvVariable, string> = {
  VIBERATOR_WORK_ROOT: 'a non-empty directory path',
  VIBERATOR_LOG_LEVEL: 'one of error, warn, info, debug',
  VIBERATOR_LOG_FORMAT: 'json or pretty',
  VIBERATOR_GIT_AUTHOR_NAME: 'a non-empty name',
  VIBERATOR_GIT_AUTHOR_EMAIL: 'a non-empty e-mail address',
  GITHUB_API_URL: 'an http(s) URL such as https://api.github.com',
  VIBERATOR_S3_FORCE_PATH_STYLE: 'true or false',
  VIBERATOR_AGENT_INACTIVITY_TIMEOUT: 'a whole number of seconds greater than 0',
  VIBERATOR_KILL_GRACE: 'a number of seconds greater than 0',
  VIBERATOR_HTTP_TIMEOUT: 'a number of seconds greater than 0',
  VIBERATOR_GIT_TIMEOUT: 'a number of seconds greater than 0',
  VIBERATOR_GIT_STALL_TIMEOUT: 'a whole number of seconds greater than 0',
  VIBERATOR_AGENT_USER: 'a user name or uid:gid',
  VIBERATOR_MAX_FILE_SIZE: 'a whole number of bytes greater than 0',
  VIBERATOR_MAX_CHANGE_SIZE: 'a whole number of bytes greater than 0',
  VIBERATOR_MAX_CHANGED_FILES: 'a whole number greater than 0',
  VIBERATOR_STAGE_TIMEOUT: 'a number of seconds greater than 0',
  VIBERATOR_HEARTBEAT_INTERVAL: 'a number of seconds greater than 0, at most 15',
  VIBERATOR_RESULT_DEADLINE: 'a number of seconds greater than 0',
};

/** The worker's settings, read once from the environment at the entry point. */
export interface WorkerEnv {
  workRoot: string;
  logLevel: 'error' | 'warn' | 'info' | 'debug';
  logFormat: 'json' | 'pretty';
  gitAuthor: { name: string; email: string };
  /** `GITHUB_API_URL`, when set. */
  githubApiUrl?: string;
  agentInactivityMs: number;
  killGraceMs: number;
  /** Limit of each attempt of each GitHub API request (`VIBERATOR_HTTP_TIMEOUT`). */
  httpTimeoutMs: number;
  /** Bounds of every git command. */
  gitLimits: GitLimits;
  /** `VIBERATOR_AGENT_USER`, when set. */
  agentUser?: string;
  /** What the worker takes over from the agent, at most (`VIBERATOR_MAX_*`, `VIBERATOR_STAGE_TIMEOUT`). */
  changeLimits: ChangeLimits;
  /** Longest pause between two POSTs to /events while a job runs. */
  heartbeatMs: number;
  /** How long the Result is retried before it is spooled. */
  resultDeadlineMs: number;
  /** Where agent CLIs are looked for (`VIBERATOR_AGENT_BIN_<SLUG>`, `VIBERATOR_AGENTS_DIR`, PATH). */
  agentSearch: AgentSearch;
  /** The host environment, for the allowlist the agent's environment is built from. */
  host: NodeJS.ProcessEnv;
}

/** Where agent CLIs are looked for, from the environment (also used by `doctor`). */
export function agentSearchFrom(env: NodeJS.ProcessEnv): AgentSearch {
  const overrides: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (/^VIBERATOR_AGENT_(BIN|LAUNCHER)_[A-Z0-9_]+$/.test(name) && value) overrides[name] = value;
  }
  return {
    overrides,
    agentsBinDir: pinnedAgentsBinDir(env.VIBERATOR_AGENTS_DIR || undefined),
    path: env.PATH,
  };
}

export function readWorkerEnv(env: NodeJS.ProcessEnv, isTty: boolean): WorkerEnv {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    // One problem per variable (a number can fail several checks), each saying what is allowed.
    const names = new Set(parsed.error.issues.map((issue) => String(issue.path[0])));
    const problems = [...names].map(
      (name) => `${name} must be ${ALLOWED[name as EnvVariable] ?? 'valid'}`,
    );
    // Not retryable: the same environment fails the same way until someone changes it.
    throw new WorkerError('internal_error', `invalid environment: ${problems.join('; ')}`, {
      retryable: false,
    });
  }
  const values = parsed.data;
  return {
    workRoot: values.VIBERATOR_WORK_ROOT,
    logLevel: values.VIBERATOR_LOG_LEVEL,
    logFormat: values.VIBERATOR_LOG_FORMAT ?? (isTty ? 'pretty' : 'json'),
    gitAuthor: { name: values.VIBERATOR_GIT_AUTHOR_NAME, email: values.VIBERATOR_GIT_AUTHOR_EMAIL },
    githubApiUrl: values.GITHUB_API_URL?.replace(/\/+$/, ''),
    agentInactivityMs: values.VIBERATOR_AGENT_INACTIVITY_TIMEOUT * 1000,
    killGraceMs: values.VIBERATOR_KILL_GRACE * 1000,
    httpTimeoutMs: values.VIBERATOR_HTTP_TIMEOUT * 1000,
    gitLimits: {
      networkMs: values.VIBERATOR_GIT_TIMEOUT * 1000,
      // Local commands (add, commit, log) on the largest checkouts finish in seconds.
      localMs: 600_000,
      stallSeconds: values.VIBERATOR_GIT_STALL_TIMEOUT,
    },
    agentUser: values.VIBERATOR_AGENT_USER,
    changeLimits: {
      maxFileBytes: values.VIBERATOR_MAX_FILE_SIZE,
      maxTotalBytes: values.VIBERATOR_MAX_CHANGE_SIZE,
      maxFiles: values.VIBERATOR_MAX_CHANGED_FILES,
      stageMs: values.VIBERATOR_STAGE_TIMEOUT * 1000,
    },
    heartbeatMs: values.VIBERATOR_HEARTBEAT_INTERVAL * 1000,
    resultDeadlineMs: values.VIBERATOR_RESULT_DEADLINE * 1000,
    agentSearch: agentSearchFrom(env),
    host: env,
  };
}
