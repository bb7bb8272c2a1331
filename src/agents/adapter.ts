import type { KeyPlacement } from '../gateway/credentials.js';
import type { Provider } from '../gateway/types.js';
import type { Clanker } from '../payload/schema.js';
import type { Phase } from '../payload/templates.js';
import type { CommandSpec } from '../process/run-process.js';
import type { AgentOutputParser, AgentSlug } from './types.js';

/** A skill as the payload carries it. */
export interface Skill {
  name: string;
  files: Array<{ path: string; content: string }>;
}

/**
 * How the agent reaches its model: the one seam per adapter through which the endpoint and
 * the key travel. The adapter turns it into its CLI's own form (flag, env variable or a
 * config file that names an env variable). The values are the job's model gateway's
 * (runtime.md, "Model gateway"): the real key stays in the worker.
 */
export interface ModelAccess {
  /** The payload secret name the real key came from (one of the adapter's `modelKeys`). */
  keyName: string;
  /**
   * The per-job gateway key, worth nothing outside this job's gateway: only ever put in the
   * agent's environment, never in a file or argv.
   */
  key: string;
  /**
   * The gateway's base URL as this CLI uses it: the gateway's origin plus the path of the
   * upstream's base URL (`/v1`, …), so the CLI composes its request paths as it would
   * against the upstream itself.
   */
  baseUrl: string;
  /** `clanker.model`, when given. */
  model?: string;
}

/**
 * Where a CLI's model requests would go without the gateway, for the clanker and the key it
 * got: the gateway forwards there, with the real key where the provider expects it.
 */
export interface ModelEndpoint {
  /** The wire family of the upstream: where the key goes and how a refusal looks. */
  provider: Provider;
  /** `clanker.baseUrl`, else the provider's default endpoint as the CLI would use it. */
  baseUrl: string;
  /** `bearer` when the key is an OAuth token (sent as `Authorization: Bearer`). */
  keyPlacement?: KeyPlacement;
}

/** Everything an adapter needs to prepare and start one run. */
export interface AgentContext {
  /** The checkout: the agent's working directory. */
  checkoutDir: string;
  /** The agent's own HOME inside the job workspace. */
  homeDir: string;
  /** A directory for the agent's configuration and state, inside the workspace. */
  configDir: string;
  tmpDir: string;
  /** Path of the CLI to run. */
  binary: string;
  /** The interpreter the CLI runs under, when the adapter declares a `launcher`. */
  launcher?: string;
  /** The job's prompt: to reach the CLI on stdin or in a file, never in argv. */
  prompt: string;
  /**
   * Where the prompt is written for a CLI that cannot read it on stdin (the adapter sets
   * `promptInFile`); readable by the agent, removed when the agent has ended.
   */
  promptFile: string;
  phase: Phase;
  /** The worker's wall-clock limit for the run, in ms (for CLIs with their own option). */
  timeLimitMs: number;
  model: ModelAccess;
  /** The clanker (for adapters whose configuration depends on it, e.g. a provider). */
  clanker: Clanker;
  agentsMd?: string;
  skills: Skill[];
  /**
   * The environment every agent gets: allowlisted host variables, HOME, TMPDIR and the
   * payload secrets exposed to the agent. The model key is not in it: see `model`.
   */
  baseEnv: Record<string, string>;
}

/** A file the adapter wants in the checkout for the run only (an instructions file). */
export interface CheckoutFile {
  /** Path relative to the checkout, e.g. `AGENTS.md`. */
  path: string;
  content: string;
}

/** An interpreter a CLI needs besides the worker's own Node (e.g. Node ≥ 22.19). */
export interface LauncherRequirement {
  /** Executable name, e.g. `node`. */
  program: string;
  /** Lowest version that works, `major.minor.patch`. */
  minVersion: string;
  /** Arguments that print the version, e.g. `['--version']`. */
  versionArgs: string[];
  /** How to get one, for `agent_unavailable` and `doctor`. */
  installHint: string;
}

/**
 * One agent CLI behind one interface: where its binary is, what it needs, how it is
 * configured and started, and how its output is read. Adapters only build values and parse
 * lines; the worker runs the process.
 */
export interface AgentAdapter {
  readonly slug: AgentSlug;
  readonly displayName: string;
  /** Executable name looked up on PATH. */
  readonly binaryName: string;
  /** How to install the CLI (the pinned version), for `agent_unavailable` and `doctor`. */
  readonly installHint: string;
  /** An interpreter the CLI needs, found by the worker and by `doctor`. */
  readonly launcher?: LauncherRequirement;
  /**
   * The CLI takes its prompt only as an argument, where other processes could read it: the
   * worker writes the prompt to `ctx.promptFile` for the run, and the adapter points the CLI
   * at it. Otherwise the prompt goes on stdin and never touches the disk.
   */
  readonly promptInFile?: boolean;
  /**
   * Payload secret names accepted as the model key for this clanker, in order of preference
   * (any one of them). May depend on the clanker: OpenCode's provider, Qwen's endpoint.
   */
  modelKeys(clanker: Pick<Clanker, 'model' | 'baseUrl'>): string[];
  /**
   * The upstream for this clanker and the payload secret the key came as (`keyName`). Throws
   * `invalid_payload` when the CLI's endpoint cannot be known (a provider without a default).
   */
  modelEndpoint(clanker: Pick<Clanker, 'model' | 'baseUrl'>, keyName: string): ModelEndpoint;
  /**
   * The model the pinned CLI uses when the clanker names none, for the price of a
   * `maxCostUsd` budget (runtime.md, "Budget").
   */
  readonly defaultModel?: string;
  /** A binary shipped with the worker (an npm dependency), if any. */
  bundledBinary?(): string | undefined;
  /** Writes config and skills into the agent's home and config dir (before the clone). */
  prepare(ctx: AgentContext): Promise<void>;
  /**
   * Instruction files the CLI reads only from the checkout. The worker places them after
   * the clone, hides them from the agent's git, and never commits them: a file the
   * repository already has reaches the commit exactly as it was.
   */
  checkoutFiles?(ctx: AgentContext): CheckoutFile[];
  command(ctx: AgentContext): CommandSpec;
  createParser(): AgentOutputParser;
}
