/**
 * What every agent's parser shares: reading one JSON object per stdout line, capping stderr,
 * and deciding how the run ended when the CLI's own verdict is missing or contradicts the
 * exit. A parser per CLI only maps its line shapes to events (see {@link jsonLinesParser}).
 */
import { constants } from 'node:os';
import type { AgentEvent, ToolKind } from '../events.js';
import { truncateForEvent } from './truncate.js';
import type { AgentExit, AgentOutcome, AgentOutputParser } from './types.js';

/**
 * stderr lines turned into events before the rest are only counted: a crashing CLI can
 * print thousands of stack lines.
 */
export const STDERR_LINE_CAP = 100;
/** Length of the stderr excerpt put into a failure reason. */
const REASON_EXCERPT = 500;

export type Json = Record<string, unknown>;

export function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

export function num(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/** A message from the CLI or the worker (not the model), cut to the event limit. */
export function systemMessage(text: string): AgentEvent {
  return { type: 'agent.message', role: 'system', text: truncateForEvent(text) };
}

/** The model's text, cut to the event limit; nothing for blank text. */
export function assistantMessage(text: string | undefined): AgentEvent[] {
  return text?.trim()
    ? [{ type: 'agent.message', role: 'assistant', text: truncateForEvent(text) }]
    : [];
}

/** The model's reasoning, cut to the event limit; nothing for blank text. */
export function thinkingEvent(text: string | undefined): AgentEvent[] {
  return text?.trim() ? [{ type: 'agent.thinking', text: truncateForEvent(text) }] : [];
}

/** The text of a tool result's content: a string, or blocks of which text is kept. */
export function toolResultText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((block) => {
      if (!isObject(block)) return '';
      if (block.type === 'text') return str(block.text) ?? '';
      return `[${str(block.type) ?? 'content'}]`; // images and the like: name them only
    })
    .filter((t) => t !== '')
    .join('\n');
}

/**
 * The `agent.tool_result` events of a Claude-style `user` line (Claude Code, Qwen Code): its
 * `tool_result` blocks; the user's own text is not repeated.
 */
export function toolResultBlocks(line: Json): AgentEvent[] {
  const message = isObject(line.message) ? line.message : {};
  const content = Array.isArray(message.content) ? message.content : [];
  const events: AgentEvent[] = [];
  for (const block of content) {
    if (!isObject(block) || block.type !== 'tool_result') continue;
    events.push({
      type: 'agent.tool_result',
      id: str(block.tool_use_id) ?? '',
      ok: block.is_error !== true,
      output: truncateForEvent(toolResultText(block.content)),
    });
  }
  return events;
}

/** A tool kind table lookup: tool name → kind, `other` for names not in it. */
export function toolKinds(table: Record<string, ToolKind>): (name: string) => ToolKind {
  const kinds = new Map(Object.entries(table));
  return (name) => kinds.get(name) ?? 'other';
}

/** An `agent.usage` increment from the figures a CLI reports; undefined when it has none. */
export function usageIncrement(figures: {
  inputTokens?: unknown;
  outputTokens?: unknown;
  cacheReadTokens?: unknown;
  cacheWriteTokens?: unknown;
  costUsd?: unknown;
}): AgentEvent | undefined {
  const event: Extract<AgentEvent, { type: 'agent.usage' }> = { type: 'agent.usage' };
  let any = false;
  for (const key of [
    'inputTokens',
    'outputTokens',
    'cacheReadTokens',
    'cacheWriteTokens',
    'costUsd',
  ] as const) {
    const value = num(figures[key]);
    if (value !== undefined) {
      event[key] = value;
      any = true;
    }
  }
  return any ? event : undefined;
}

/** How the process ended, in words. */
export function describeExit(exit: AgentExit): string {
  if (exit.signal) return `was terminated by ${exit.signal}`;
  if (exit.code === null) return 'exited with an unknown status';
  // CLIs that catch SIGTERM exit 143 (128 + 15) instead of dying by the signal.
  const signal = Object.entries(constants.signals).find(([, n]) => n === (exit.code ?? 0) - 128);
  return `exited with code ${exit.code}${signal ? ` (${signal[0]})` : ''}`;
}

/** True when a message reads like the model API refusing the key (401/403). */
export function looksLikeRejectedKey(text: string): boolean {
  return /\b(401|403)\b|unauthori[sz]ed|invalid[ _-]?(api[ _-]?)?key|incorrect api key|authentication|permission denied by the api/i.test(
    text,
  );
}

/** The state of one run as a parser sees it; handlers set the outcome and the answer. */
export interface RunState {
  /** The CLI's own verdict, from its result line. */
  outcome?: AgentOutcome;
  /** The last text the model said: the answer for CLIs without a result line. */
  lastAssistantText?: string;
  /**
   * The last few errors the CLI printed on stdout, newest last (for a failure reason); add
   * with {@link recordError}, which keeps it short however long the run.
   */
  errors: string[];
  /** The last stderr line. */
  lastStderr?: string;
  /** Set when an error looked like a rejected key. */
  credentialsRejected: boolean;
}

/** How many errors a run keeps: only the newest is used, the rest is context for a reader. */
const KEPT_ERRORS = 5;

/** Notes an error the CLI printed; the run keeps only the newest few. */
export function recordError(run: RunState, text: string): void {
  run.errors.push(text);
  if (run.errors.length > KEPT_ERRORS) run.errors.splice(0, run.errors.length - KEPT_ERRORS);
}

/** How one CLI's JSON lines map to events. */
export interface JsonLineHandler {
  /** The CLI's name in failure reasons, e.g. `Codex`. */
  displayName: string;
  /** Events for one stdout line that parsed as a JSON object. */
  json(line: Json, raw: string, run: RunState): AgentEvent[];
  /**
   * The verdict when the CLI printed no result line. Default: a failure naming the exit;
   * CLIs that never print one (their last message is the answer) succeed on exit 0.
   */
  withoutResult?: 'fail' | 'exit-code';
}

/**
 * A parser for a CLI that prints one JSON object per stdout line. Unparseable lines become
 * system messages; stderr is shown up to {@link STDERR_LINE_CAP} lines; the end decides the
 * outcome from the CLI's verdict and the exit, trusting a success only with exit 0.
 */
export function jsonLinesParser(handler: JsonLineHandler): AgentOutputParser {
  const run: RunState = { errors: [], credentialsRejected: false };
  let stderrLines = 0;
  const name = handler.displayName;

  const stdoutLine = (raw: string): AgentEvent[] => {
    let line: unknown;
    try {
      line = JSON.parse(raw);
    } catch {
      return [systemMessage(raw)];
    }
    if (!isObject(line)) return [systemMessage(raw)];
    return handler.json(line, raw, run);
  };

  const failure = (reason: string): AgentOutcome => ({
    failed: true,
    failureReason: truncateForEvent(reason, 1000),
    ...(run.credentialsRejected || looksLikeRejectedKey(reason)
      ? { credentialsRejected: true }
      : {}),
  });

  return {
    line(text, stream) {
      const raw = text.trim();
      if (raw === '') return [];
      if (stream === 'stdout') return stdoutLine(raw);
      stderrLines++;
      run.lastStderr = raw;
      return stderrLines <= STDERR_LINE_CAP ? [systemMessage(`[stderr] ${raw}`)] : [];
    },

    end(exit) {
      const events: AgentEvent[] = [];
      if (stderrLines > STDERR_LINE_CAP) {
        events.push(
          systemMessage(`[stderr] ${stderrLines - STDERR_LINE_CAP} more lines not shown`),
        );
      }
      const clean = exit.signal === null && exit.code === 0;
      const lastError = run.errors.at(-1);
      const excerpt = lastError ?? run.lastStderr;
      const because = excerpt ? `: ${truncateForEvent(excerpt, REASON_EXCERPT)}` : '';
      const { outcome } = run;
      if (!outcome) {
        if (handler.withoutResult === 'exit-code' && clean && !lastError) {
          return {
            events,
            outcome: {
              failed: false,
              ...(run.lastAssistantText !== undefined ? { finalText: run.lastAssistantText } : {}),
            },
          };
        }
        const what = handler.withoutResult === 'exit-code' ? '' : ' without reporting a result';
        return {
          events,
          outcome: failure(
            clean && lastError
              ? `${name} reported an error${because}`
              : `${name} ${describeExit(exit)}${what}${because}`,
          ),
        };
      }
      if (!outcome.failed && !clean) {
        // The result line said success but the process did not end cleanly: trust neither.
        return {
          events,
          outcome: failure(`${name} reported success but ${describeExit(exit)}${because}`),
        };
      }
      if (outcome.failed && run.credentialsRejected && !outcome.credentialsRejected) {
        return { events, outcome: { ...outcome, credentialsRejected: true } };
      }
      return { events, outcome };
    },
  };
}
