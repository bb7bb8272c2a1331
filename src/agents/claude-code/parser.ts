/**
 * Parser for `claude -p --output-format stream-json --verbose` (Claude Code 2.1.x): one JSON
 * object per stdout line — `system` (init, api_retry, …), `assistant` and `user` messages
 * carrying content blocks, and a final `result` with usage, cost and the run's verdict.
 */
import type { AgentEvent, ToolKind } from '../../events.js';
import {
  isObject,
  type Json,
  jsonLinesParser,
  num,
  str,
  systemMessage,
  toolResultBlocks,
} from '../parsing.js';
import { truncateForEvent, truncateJsonForEvent } from '../truncate.js';
import type { AgentOutcome, AgentOutputParser } from '../types.js';

const TOOL_KINDS = new Map<string, ToolKind>(
  Object.entries({
    Read: 'read',
    NotebookRead: 'read',
    LS: 'read',
    Glob: 'search',
    Grep: 'search',
    Write: 'edit',
    Edit: 'edit',
    MultiEdit: 'edit',
    NotebookEdit: 'edit',
    Bash: 'command',
    BashOutput: 'command',
    KillShell: 'command',
    WebFetch: 'web',
    WebSearch: 'web',
    // Server-side tools the API runs itself appear under their API names.
    web_search: 'web',
    web_fetch: 'web',
  }),
);

/** The kind of a Claude Code tool, for the `agent.tool_call` event. */
export function claudeToolKind(name: string): ToolKind {
  return TOOL_KINDS.get(name) ?? 'other';
}

const system = systemMessage;

/** Events for the content blocks of an `assistant` line. */
function assistantEvents(line: Json, raw: string): AgentEvent[] {
  const message = isObject(line.message) ? line.message : {};
  const content = message.content;
  if (!Array.isArray(content)) return [system(raw)]; // a shape we do not know: show it
  // Errors the CLI reports in the model's place (401, 5xx, timeouts) come as a synthetic
  // assistant message: they are the CLI speaking, not the model.
  const role = line.is_api_error_message === true ? 'system' : 'assistant';
  const events: AgentEvent[] = [];
  for (const block of content) {
    if (!isObject(block)) continue;
    switch (block.type) {
      case 'text': {
        const text = str(block.text);
        if (text?.trim()) {
          events.push({ type: 'agent.message', role, text: truncateForEvent(text) });
        }
        break;
      }
      case 'thinking': {
        const text = str(block.thinking);
        if (text?.trim()) events.push({ type: 'agent.thinking', text: truncateForEvent(text) });
        break;
      }
      case 'tool_use':
      case 'server_tool_use': {
        const name = str(block.name) ?? 'unknown';
        events.push({
          type: 'agent.tool_call',
          id: str(block.id) ?? '',
          name,
          kind: claudeToolKind(name),
          input: truncateJsonForEvent(block.input ?? {}),
        });
        break;
      }
      // redacted_thinking carries nothing readable; other block types are not ours to show.
    }
  }
  return events;
}

/** Subtypes whose `content` is a sentence meant for people. */
const CONTENT_SUBTYPES = new Set(['compact_boundary', 'model_fallback']);

function systemEvents(line: Json, raw: string): AgentEvent[] {
  switch (line.subtype) {
    case 'init': {
      const model = str(line.model) ?? 'unknown model';
      const session = str(line.session_id) ?? 'unknown';
      return [system(`Claude Code session ${session} started (model ${model})`)];
    }
    case 'api_retry': {
      const status = num(line.error_status);
      const cause = [status, str(line.error)].filter((p) => p !== undefined).join(' ');
      const delay = num(line.retry_delay_ms);
      return [
        system(
          `API request failed (${cause || 'unknown error'}); ` +
            `retry ${num(line.attempt) ?? '?'} of ${num(line.max_retries) ?? '?'}` +
            (delay === undefined ? '' : ` in ${Math.round(delay)} ms`),
        ),
      ];
    }
    case 'permission_denied': {
      const why = str(line.message) ?? str(line.decision_reason);
      return [
        system(`Permission denied: ${str(line.tool_name) ?? 'a tool'}${why ? ` (${why})` : ''}`),
      ];
    }
    // A running estimate of thinking tokens: a progress tick, not news.
    case 'thinking_tokens':
      return [];
  }
  const content = str(line.content);
  if (content && CONTENT_SUBTYPES.has(str(line.subtype) ?? '')) return [system(content)];
  return [system(raw)];
}

/** The usage event of a `result` line. */
function usageEvent(line: Json): AgentEvent | undefined {
  const usage = isObject(line.usage) ? line.usage : undefined;
  const cost = num(line.total_cost_usd);
  if (!usage && cost === undefined) return undefined;
  const event: Extract<AgentEvent, { type: 'agent.usage' }> = { type: 'agent.usage' };
  const fields = [
    ['inputTokens', 'input_tokens'],
    ['outputTokens', 'output_tokens'],
    ['cacheReadTokens', 'cache_read_input_tokens'],
    ['cacheWriteTokens', 'cache_creation_input_tokens'],
  ] as const;
  for (const [to, from] of fields) {
    const value = num(usage?.[from]);
    if (value !== undefined) event[to] = value;
  }
  if (cost !== undefined) event.costUsd = cost;
  return event;
}

const SUBTYPE_REASONS = new Map(
  Object.entries({
    error_max_turns: 'Claude Code stopped: maximum number of turns reached',
    error_max_budget_usd: 'Claude Code stopped: spending limit reached',
    error_during_execution: 'Claude Code failed during execution',
  }),
);

/** What a `result` line says about the run. */
function resultOutcome(line: Json): AgentOutcome {
  const subtype = str(line.subtype) ?? 'unknown';
  const text = str(line.result)?.trim();
  const failed = line.is_error === true || subtype !== 'success';
  if (!failed)
    return { failed: false, ...(text !== undefined ? { finalText: str(line.result) } : {}) };
  const errors = Array.isArray(line.errors) ? line.errors.filter((e) => typeof e === 'string') : [];
  const turns = num(line.num_turns);
  let reason =
    text ||
    errors.join('; ') ||
    (SUBTYPE_REASONS.get(subtype) ?? `Claude Code reported ${subtype}`) +
      (subtype === 'error_max_turns' && turns !== undefined ? ` (${turns} turns)` : '');
  const status = num(line.api_error_status);
  // The CLI's text for a 401 ("Invalid API key") does not name the status; keep it visible.
  if (status !== undefined && !reason.includes(String(status))) {
    reason = `API error ${status}: ${reason}`;
  }
  return {
    failed: true,
    failureReason: truncateForEvent(reason, 1000),
    ...(status === 401 || status === 403 ? { credentialsRejected: true } : {}),
  };
}

/** The names of the tools a `result` line lists as denied, in order, once each. */
function deniedTools(line: Json): string[] {
  if (!Array.isArray(line.permission_denials)) return [];
  const names = line.permission_denials.map((d) => (isObject(d) ? str(d.tool_name) : undefined));
  return [...new Set(names.map((n) => n ?? 'unknown'))];
}

/** Creates a parser for one Claude Code run. */
export function createClaudeCodeParser(): AgentOutputParser {
  return jsonLinesParser({
    displayName: 'Claude Code',
    json(line, raw, run) {
      switch (line.type) {
        case 'system':
          return systemEvents(line, raw);
        case 'assistant':
          return assistantEvents(line, raw);
        case 'user':
          return toolResultBlocks(line);
        case 'result': {
          run.outcome = resultOutcome(line);
          const events: AgentEvent[] = [];
          const usage = usageEvent(line);
          if (usage) events.push(usage);
          // A denial is not a failure (the CLI exits 0), but the job may be missing work.
          const denied = deniedTools(line);
          if (denied.length > 0)
            events.push(system(`Permission denied for tools: ${denied.join(', ')}`));
          return events;
        }
        // Partial-message chunks (only with --include-partial-messages) and progress ticks
        // repeat what the complete messages say.
        case 'stream_event':
        case 'tool_progress':
          return [];
        default:
          return [system(raw)];
      }
    },
  });
}
