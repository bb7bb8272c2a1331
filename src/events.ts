/**
 * The normalized event stream of platform-api.md. Agent adapters produce `AgentEvent`s;
 * the worker adds `status` and `log` events, numbers them (`seq`) and stamps them (`ts`).
 */

/** Lifecycle steps, in the order the worker runs them. */
export const STEPS = [
  'received',
  'resolving_config',
  'fetching_credentials',
  'initialising_agent',
  'cloning',
  'running_agent',
  'committing',
  'pushing',
  'opening_pr',
  'reporting',
] as const;
export type Step = (typeof STEPS)[number];

export type ToolKind = 'read' | 'edit' | 'command' | 'search' | 'web' | 'other';

/** Events an agent's output is normalized into. */
export type AgentEvent =
  | { type: 'agent.message'; role: 'assistant' | 'system'; text: string }
  | { type: 'agent.thinking'; text: string }
  | { type: 'agent.tool_call'; id: string; name: string; kind: ToolKind; input: unknown }
  | { type: 'agent.tool_result'; id: string; ok: boolean; output: string }
  | {
      type: 'agent.usage';
      inputTokens?: number;
      outputTokens?: number;
      cacheReadTokens?: number;
      cacheWriteTokens?: number;
      costUsd?: number;
    };

export type StatusEvent = {
  type: 'status';
  step: Step;
  state: 'started' | 'completed' | 'failed';
};
export type LogEvent = { type: 'log'; level: 'error' | 'warn' | 'info' | 'debug'; message: string };

export type EventBody = AgentEvent | StatusEvent | LogEvent;

/** An event as delivered: numbered from 1 with no gaps, ISO timestamp. */
export type WorkerEvent = EventBody & { seq: number; ts: string };

/** Cap for tool inputs and outputs in events (platform-api.md). */
export const EVENT_PAYLOAD_LIMIT = 4096;
