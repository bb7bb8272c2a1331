import { z } from 'zod';
import { WorkerError } from '../errors.js';

const envSchema = z.object({
  VIBERATOR_WORK_ROOT: z.string().min(1).default('/tmp/viberator-work'),
  VIBERATOR_LOG_LEVEL: z.enum(['error', 'warn', 'info', 'debug']).default('info'),
  VIBERATOR_LOG_FORMAT: z.enum(['json', 'pretty']).optional(),
  VIBERATOR_GIT_AUTHOR_NAME: z.string().min(1).default('Viberator'),
  VIBERATOR_GIT_AUTHOR_EMAIL: z.string().min(1).default('viberator@users.noreply.github.com'),
  GITHUB_API_URL: z.url().default('https://api.github.com'),
  VIBERATOR_S3_FORCE_PATH_STYLE: z.enum(['true', 'false']).default('false'),
  /** Longest silence of an agent before it is stopped, seconds (the spec leaves the figure open). */
  VIBERATOR_AGENT_INACTIVITY_TIMEOUT: z.coerce.number().int().positive().default(600),
  /** Seconds between SIGTERM and SIGKILL when an agent is stopped. */
  VIBERATOR_KILL_GRACE: z.coerce.number().positive().default(10),
});

/** The worker's settings, read once from the environment at the entry point. */
export interface WorkerEnv {
  workRoot: string;
  logLevel: 'error' | 'warn' | 'info' | 'debug';
  logFormat: 'json' | 'pretty';
  gitAuthor: { name: string; email: string };
  githubApiUrl: string;
  agentInactivityMs: number;
  killGraceMs: number;
  /** `VIBERATOR_AGENT_BIN_<SLUG>` overrides, by upper-snake slug (`CLAUDE_CODE`). */
  agentBins: Record<string, string>;
  /** The host environment, for the allowlist the agent's environment is built from. */
  host: NodeJS.ProcessEnv;
}

export function readWorkerEnv(env: NodeJS.ProcessEnv, isTty: boolean): WorkerEnv {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (issue) => `${issue.path.join('.')}: ${issue.message}`,
    );
    throw new WorkerError('internal_error', `invalid environment: ${problems.join('; ')}`, {
      retryable: false,
    });
  }
  const values = parsed.data;
  const agentBins: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    const match = /^VIBERATOR_AGENT_BIN_([A-Z0-9_]+)$/.exec(name);
    if (match?.[1] && value) agentBins[match[1]] = value;
  }
  return {
    workRoot: values.VIBERATOR_WORK_ROOT,
    logLevel: values.VIBERATOR_LOG_LEVEL,
    logFormat: values.VIBERATOR_LOG_FORMAT ?? (isTty ? 'pretty' : 'json'),
    gitAuthor: { name: values.VIBERATOR_GIT_AUTHOR_NAME, email: values.VIBERATOR_GIT_AUTHOR_EMAIL },
    githubApiUrl: values.GITHUB_API_URL.replace(/\/+$/, ''),
    agentInactivityMs: values.VIBERATOR_AGENT_INACTIVITY_TIMEOUT * 1000,
    killGraceMs: values.VIBERATOR_KILL_GRACE * 1000,
    agentBins,
    host: env,
  };
}
