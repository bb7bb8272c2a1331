/**
 * Parser for `codex exec --json` (Codex 0.171): one JSON event per stdout line —
 * `thread.started`, `turn.started`, `item.started` / `item.updated` / `item.completed`
 * carrying a thread item (`agent_message`, `reasoning`, `command_execution`, `file_change`,
 * `mcp_tool_call`, `web_search`, `todo_list`, `collab_tool_call`, `plan`, `error`),
 * `turn.completed` with the turn's token usage, `turn.failed` and top-level `error`.
 * There is no result line: `turn.completed` is the verdict, the last agent message the answer.
 */
import type { AgentEvent } from '../../events.js';
import {
  assistantMessage,
  isObject,
  type Json,
  jsonLinesParser,
  looksLikeRejectedKey,
  num,
  type RunState,
  recordError,
  str,
  systemMessage,
  thinkingEvent,
  toolKinds,
  usageIncrement,
} from '../parsing.js';
import { truncateForEvent, truncateJsonForEvent } from '../truncate.js';
import type { AgentOutputParser } from '../types.js';

/** The kind of the tool call a thread item stands for, by item type. */
export const codexToolKind = toolKinds({
  command_execution: 'command',
  file_change: 'edit',
  web_search: 'web',
  mcp_tool_call: 'other',
  collab_tool_call: 'other',
  todo_list: 'other',
});

/** Item types that are tool calls: a call when they start, a result when they complete. */
const TOOL_ITEMS = new Set([
  'command_execution',
  'file_change',
  'web_search',
  'mcp_tool_call',
  'collab_tool_call',
  'todo_list',
]);

/** The name shown for a tool item. */
function toolName(item: Json): string {
  switch (item.type) {
    case 'command_execution':
      return 'shell';
    case 'file_change':
      return 'apply_patch';
    case 'mcp_tool_call':
      return `mcp:${str(item.server) ?? '?'}/${str(item.tool) ?? '?'}`;
    case 'collab_tool_call':
      return str(item.tool) ?? 'collab';
    default:
      return str(item.type) ?? 'unknown';
  }
}

/** The input shown for a tool item. */
function toolInput(item: Json): unknown {
  switch (item.type) {
    case 'command_execution':
      return { command: item.command ?? '' };
    case 'file_change':
      return { changes: Array.isArray(item.changes) ? item.changes : [] };
    case 'web_search':
      return { query: item.query ?? '', ...(item.action ? { action: item.action } : {}) };
    case 'mcp_tool_call':
      return item.arguments ?? {};
    case 'collab_tool_call':
      return { prompt: item.prompt ?? null, receivers: item.receiver_thread_ids ?? [] };
    case 'todo_list':
      return { items: Array.isArray(item.items) ? item.items : [] };
    default:
      return {};
  }
}

/** The text of MCP result content blocks: texts kept, other blocks named. */
function mcpResultText(result: unknown): string {
  if (!isObject(result) || !Array.isArray(result.content)) return '';
  return result.content
    .map((block) => {
      if (!isObject(block)) return '';
      if (block.type === 'text') return str(block.text) ?? '';
      return `[${str(block.type) ?? 'content'}]`;
    })
    .filter((t) => t !== '')
    .join('\n');
}

/** Whether a completed tool item succeeded, and what it printed or did. */
function toolResult(item: Json): { ok: boolean; output: string } {
  const status = str(item.status);
  switch (item.type) {
    case 'command_execution': {
      const code = num(item.exit_code);
      const output = str(item.aggregated_output) ?? '';
      if (status === 'declined') return { ok: false, output: output || 'The command was declined' };
      const ok = status === 'completed' && (code === undefined || code === 0);
      return {
        ok,
        output: code !== undefined && code !== 0 ? `${output}[exit code ${code}]` : output,
      };
    }
    case 'file_change': {
      const changes = Array.isArray(item.changes) ? item.changes : [];
      const lines = changes.map((c) =>
        isObject(c) ? `${str(c.kind) ?? 'change'} ${str(c.path) ?? '?'}` : '',
      );
      return {
        ok: status === 'completed',
        output: lines.join('\n') + (status === 'failed' ? '\n[the patch was not applied]' : ''),
      };
    }
    case 'mcp_tool_call': {
      const error = isObject(item.error) ? str(item.error.message) : undefined;
      return {
        ok: status === 'completed' && !error,
        output: error ?? mcpResultText(item.result),
      };
    }
    case 'todo_list': {
      const items = Array.isArray(item.items) ? item.items : [];
      const lines = items.map((t) =>
        isObject(t) ? `[${t.completed === true ? 'x' : ' '}] ${str(t.text) ?? ''}` : '',
      );
      return { ok: true, output: lines.join('\n') };
    }
    case 'collab_tool_call':
      return { ok: status === 'completed', output: status ?? '' };
    default:
      return { ok: status !== 'failed', output: '' };
  }
}

/** `Reconnecting... 1/2 (…)`: the CLI retrying a request, not its final word. */
const RETRY_NOTICE = /^Reconnecting\.\.\. \d+\/\d+\b/;

/** An error message naming an HTTP status the API refuses a key with. */
function rejectsKey(message: string): boolean {
  return /\bstatus (401|403)\b/.test(message) || looksLikeRejectedKey(message);
}

/** Creates a parser for one Codex run. */
export function createCodexParser(): AgentOutputParser {
  /** Tool items whose call was already shown (when they started). */
  const started = new Set<string>();

  const toolCall = (item: Json, id: string): AgentEvent => {
    started.add(id);
    const name = toolName(item);
    return {
      type: 'agent.tool_call',
      id,
      name,
      kind: codexToolKind(str(item.type) ?? ''),
      input: truncateJsonForEvent(toolInput(item)),
    };
  };

  const itemEvents = (phase: string, item: Json, raw: string, run: RunState): AgentEvent[] => {
    const type = str(item.type) ?? '';
    const id = str(item.id) ?? '';
    if (TOOL_ITEMS.has(type)) {
      if (phase === 'started') return started.has(id) ? [] : [toolCall(item, id)];
      if (phase === 'updated') return []; // progress of a running item: its end says it all
      const events = started.has(id) ? [] : [toolCall(item, id)];
      started.delete(id); // done: the set holds only running items, however long the run
      const result = toolResult(item);
      events.push({
        type: 'agent.tool_result',
        id,
        ok: result.ok,
        output: truncateForEvent(result.output),
      });
      return events;
    }
    // Messages, reasoning and errors are shown once, complete.
    if (phase !== 'completed') return [];
    switch (type) {
      case 'agent_message':
      case 'plan': {
        const text = str(item.text);
        if (type === 'agent_message' && text !== undefined) run.lastAssistantText = text;
        return assistantMessage(text);
      }
      case 'reasoning':
        return thinkingEvent(str(item.text));
      case 'error':
        // A warning the CLI goes on after (e.g. unknown model metadata): not the run's failure.
        return [systemMessage(`Codex: ${str(item.message) ?? raw}`)];
      default:
        return [systemMessage(raw)];
    }
  };

  return jsonLinesParser({
    displayName: 'Codex',
    json(line, raw, run) {
      switch (line.type) {
        case 'thread.started':
          return [systemMessage(`Codex thread ${str(line.thread_id) ?? 'unknown'} started`)];
        case 'turn.started':
          return [];
        case 'item.started':
        case 'item.updated':
        case 'item.completed': {
          if (!isObject(line.item)) return [systemMessage(raw)];
          return itemEvents(line.type.slice('item.'.length), line.item, raw, run);
        }
        // Streaming pieces of a plan item; the completed item carries the whole text.
        case 'item.plan.delta':
          return [];
        case 'turn.completed': {
          run.outcome = {
            failed: false,
            ...(run.lastAssistantText !== undefined ? { finalText: run.lastAssistantText } : {}),
          };
          const usage = isObject(line.usage) ? line.usage : {};
          const input = num(usage.input_tokens);
          const cached = num(usage.cached_input_tokens);
          // OpenAI's input count includes the cached part; report them apart, as
          // Anthropic's figures are, so inputTokens + cacheReadTokens is the whole prompt.
          const event = usageIncrement({
            inputTokens: input !== undefined ? input - (cached ?? 0) : undefined,
            outputTokens: usage.output_tokens,
            cacheReadTokens: cached,
            cacheWriteTokens: usage.cache_write_input_tokens,
          });
          return event ? [event] : [];
        }
        case 'turn.failed': {
          const error = isObject(line.error) ? line.error : {};
          const message = str(error.message) ?? 'Codex reported a failed turn';
          const rejected = rejectsKey(message);
          if (rejected) run.credentialsRejected = true;
          run.outcome = {
            failed: true,
            failureReason: truncateForEvent(message, 1000),
            ...(rejected ? { credentialsRejected: true } : {}),
          };
          // The same message came as an `error` line just before; show it only if not.
          return run.errors.at(-1) === message ? [] : [systemMessage(message)];
        }
        case 'error': {
          const message = str(line.message) ?? raw;
          if (!RETRY_NOTICE.test(message)) {
            recordError(run, message);
            if (rejectsKey(message)) run.credentialsRejected = true;
          }
          return [systemMessage(message)];
        }
        case 'request_user_input':
          // Headless: nobody can answer; the CLI goes on without an answer.
          return [
            systemMessage(`Codex asked for user input, which a headless run cannot give: ${raw}`),
          ];
        default:
          return [systemMessage(raw)];
      }
    },
  });
}
