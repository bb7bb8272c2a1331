import type { CommandSpec } from '../process/run-process.js';
import type { AgentOutputParser, AgentSlug } from './types.js';

/** A skill as the payload carries it. */
export interface Skill {
  name: string;
  files: Array<{ path: string; content: string }>;
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
  prompt: string;
  model?: string;
  baseUrl?: string;
  agentsMd?: string;
  skills: Skill[];
  /** The environment every agent gets: allowlisted host variables, HOME, TMPDIR, exposed secrets. */
  baseEnv: Record<string, string>;
}

/** Which secrets an agent needs: at least one of `anyOf`. */
export interface SecretRequirement {
  anyOf: string[];
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
  requiredSecrets(): SecretRequirement;
  /** A binary shipped with the worker (an npm dependency), if any. */
  bundledBinary?(): string | undefined;
  /** Writes config, instructions and skills — outside the checkout where the agent allows. */
  prepare(ctx: AgentContext): Promise<void>;
  command(ctx: AgentContext): CommandSpec;
  createParser(): AgentOutputParser;
}
