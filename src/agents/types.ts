import type { AgentEvent } from '../events.js';

/** The seven agent slugs of runtime.md. */
export const AGENT_SLUGS = [
  'claude-code',
  'codex',
  'gemini-cli',
  'qwen-cli',
  'opencode',
  'mistral-vibe',
  'kimi-code',
] as const;
export type AgentSlug = (typeof AGENT_SLUGS)[number];

/** How an agent process ended. */
export interface AgentExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** What a parser concluded about the run once the process ended. */
export interface AgentOutcome {
  /** True when the CLI's own output says the run failed (even with exit 0). */
  failed: boolean;
  /** A person-readable reason when `failed`. */
  failureReason?: string;
  /** The agent's final answer (research/planning documents). */
  finalText?: string;
  /** The model API refused the agent's credentials (401/403): the key is what to fix. */
  credentialsRejected?: boolean;
}

/**
 * Turns one CLI's machine-readable output into normalized events. Stateful: one instance
 * per run. An unparseable line becomes a `system` message, never an exception.
 */
export interface AgentOutputParser {
  line(text: string, stream: 'stdout' | 'stderr'): AgentEvent[];
  end(exit: AgentExit): { events: AgentEvent[]; outcome: AgentOutcome };
}
