/**
 * Parser for `qwen --output-format stream-json` (Qwen Code 0.24): one JSON object per stdout
 * line, shaped like Claude Code's — `system` (init, retry, …), `assistant` messages whose
 * content blocks are all of one type (text, thinking or tool_use) with the usage of their
 * model call, `user` messages carrying tool results, and a final `result` with the run's
 * verdict and total usage. Errors the CLI meets talking to the model arrive as an assistant
 * text `[API Error: …]` before an error result. Without a result line (SIGTERM, exit 55 at
 * `--max-wall-time`) the exit and stderr decide.
 */
import type { AgentEvent, ToolKind } from '../../events.js';
import {
  isObject,
  type Json,
  jsonLinesParser,
  num,
  type RunState,
  recordError,
  str,
  systemMessage,
  thinkingEvent,
  toolKinds,
  toolResultBlocks,
  usageIncrement,
} from '../parsing.js';
import { truncateForEvent, truncateJsonForEvent } from '../truncate.js';
import type { AgentOutcome, AgentOutputParser } from '../types.js';

const NAME = 'Qwen Code';

const kindOf = toolKinds({
  read_file: 'read',
  zoom_image: 'read',
  list_directory: 'read',
  read_mcp_resource: 'read',
  lsp: 'read',
  grep_search: 'search',
  glob: 'search',
  write_file: 'edit',
  edit: 'edit',
  notebook_edit: 'edit',
  run_shell_command: 'command',
  exec: 'command',
  monitor: 'command',
  web_fetch: 'web',
  web_search: 'web',
});

/**
 * The kind of a Qwen Code tool call. `tool_call` runs a deferred tool named in its input, so
 * it has that tool's kind.
 */
export function qwenToolKind(name: string, input?: unknown): ToolKind {
  if (name === 'tool_call' && isObject(input)) {
    const inner = str(input.name);
    if (inner && inner !== 'tool_call') return kindOf(inner);
  }
  return kindOf(name);
}

/** `[API Error: 401 Incorrect API key …]`: the CLI's report of a failed model call. */
const API_ERROR = /^\[API Error:\s*(?:(\d{3})\b)?/;

/** The HTTP status of an `[API Error: …]` text, if it names one. */
function apiErrorStatus(text: string): number | undefined {
  const status = API_ERROR.exec(text.trim())?.[1];
  return status ? Number(status) : undefined;
}

/** Notes an error the CLI printed; a 401/403 from the model API marks the key as refused. */
function noteError(run: RunState, text: string): void {
  recordError(run, text);
  const status = apiErrorStatus(text);
  if (status === 401 || status === 403) run.credentialsRejected = true;
}

/** Running sums of the usage already reported per model call, to settle against the total. */
interface UsageSums {
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
}

const USAGE_FIELDS = [
  ['inputTokens', 'input_tokens'],
  ['outputTokens', 'output_tokens'],
  ['cacheReadTokens', 'cache_read_input_tokens'],
  ['cacheWriteTokens', 'cache_creation_input_tokens'],
] as const;

/** The figures of a `usage` object, zeros left out. */
function usageFigures(usage: unknown): Partial<UsageSums> {
  const figures: Partial<UsageSums> = {};
  if (!isObject(usage)) return figures;
  for (const [to, from] of USAGE_FIELDS) {
    const value = num(usage[from]);
    if (value !== undefined && value > 0) figures[to] = value;
  }
  return figures;
}

/** The `data` payload of a system line, whose fields are a sentence's parts. */
function systemEvents(line: Json, raw: string): AgentEvent[] {
  const data = isObject(line.data) ? line.data : {};
  switch (line.subtype) {
    case 'init': {
      const model = str(line.model) ?? 'unknown model';
      const session = str(line.session_id) ?? 'unknown';
      const mode = str(line.permission_mode);
      return [
        systemMessage(
          `${NAME} session ${session} started (model ${model}${mode ? `, approval mode ${mode}` : ''})`,
        ),
      ];
    }
    case 'retry': {
      const attempt = num(data.attempt);
      const max = num(data.maxRetries);
      const delay = num(data.delayMs);
      return [
        systemMessage(
          `Model request retried${attempt !== undefined ? ` (attempt ${attempt}${max !== undefined ? ` of ${max}` : ''})` : ''}` +
            (delay !== undefined ? ` in ${Math.round(delay)} ms` : ''),
        ),
      ];
    }
    case 'model_fallback': {
      const status = num(data.statusCode);
      return [
        systemMessage(
          `Model ${str(data.fromModel) ?? '?'} unavailable${status !== undefined ? ` (${status})` : ''}; falling back to ${str(data.toModel) ?? '?'}`,
        ),
      ];
    }
    // Dual-output framing: nothing to tell.
    case 'session_start':
    case 'session_end':
      return [];
  }
  const notice = str(data.notice) ?? str(data.error);
  return [systemMessage(notice ?? raw)];
}

/** Creates a parser for one Qwen Code run. */
export function createQwenCliParser(): AgentOutputParser {
  // Usage reported per model call so far; the result's total settles the difference.
  const sums: UsageSums = {
    inputTokens: 0,
    outputTokens: 0,
    cacheReadTokens: 0,
    cacheWriteTokens: 0,
  };

  const usageOf = (figures: Partial<UsageSums>): AgentEvent[] => {
    for (const [key] of USAGE_FIELDS) sums[key] += figures[key] ?? 0;
    const event = usageIncrement(figures);
    return event ? [event] : [];
  };

  const assistantEvents = (line: Json, raw: string, run: RunState): AgentEvent[] => {
    const message = isObject(line.message) ? line.message : undefined;
    if (!message || !Array.isArray(message.content)) return [systemMessage(raw)];
    const events: AgentEvent[] = [];
    for (const block of message.content) {
      if (!isObject(block)) continue;
      switch (block.type) {
        case 'text': {
          const text = str(block.text);
          if (!text?.trim()) break;
          if (API_ERROR.test(text.trim())) {
            // The CLI speaking in the model's place: an error, not an answer.
            noteError(run, text.trim());
            events.push(systemMessage(text.trim()));
          } else {
            events.push({ type: 'agent.message', role: 'assistant', text: truncateForEvent(text) });
          }
          break;
        }
        case 'thinking':
          events.push(...thinkingEvent(str(block.thinking)));
          break;
        case 'tool_use': {
          const name = str(block.name) ?? 'unknown';
          events.push({
            type: 'agent.tool_call',
            id: str(block.id) ?? '',
            name,
            kind: qwenToolKind(name, block.input),
            input: truncateJsonForEvent(block.input ?? {}),
          });
          break;
        }
        // Other block types are not ours to show.
      }
    }
    events.push(...usageOf(usageFigures(message.usage)));
    return events;
  };

  /** What the total of a result line adds to the per-call figures already reported. */
  const remainder = (line: Json): AgentEvent[] => {
    const total = usageFigures(line.usage);
    const rest: Partial<UsageSums> = {};
    for (const [key] of USAGE_FIELDS) {
      const more = (total[key] ?? 0) - sums[key];
      if (more > 0) rest[key] = more;
    }
    const events = usageOf(rest);
    // Reported only when pricing is configured; a run's total, once.
    const cost = num(line.total_cost_usd);
    if (cost !== undefined) {
      const event = usageIncrement({ costUsd: cost });
      if (event) events.push(event);
    }
    return events;
  };

  const resultOutcome = (line: Json, run: RunState): AgentOutcome => {
    const subtype = str(line.subtype) ?? 'unknown';
    const failed = line.is_error === true || subtype !== 'success';
    if (!failed) {
      const text = str(line.result);
      return { failed: false, ...(text !== undefined ? { finalText: text } : {}) };
    }
    const error = isObject(line.error) ? str(line.error.message)?.trim() : undefined;
    if (error && run.errors.at(-1) !== error) noteError(run, error);
    const reason = error || run.errors.at(-1) || `${NAME} reported ${subtype}`;
    return {
      failed: true,
      failureReason: truncateForEvent(reason, 1000),
      ...(run.credentialsRejected ? { credentialsRejected: true } : {}),
    };
  };

  return jsonLinesParser({
    displayName: NAME,
    json(line, raw, run) {
      switch (line.type) {
        case 'system':
          return systemEvents(line, raw);
        case 'assistant':
          return assistantEvents(line, raw, run);
        case 'user':
          return toolResultBlocks(line);
        case 'result': {
          // A sub-agent that fails to start reports a result line of its own; the session's
          // comes last and replaces it.
          run.outcome = resultOutcome(line, run);
          const events = remainder(line);
          // A denial is not a failure (the CLI exits 0), but the job may be missing work.
          const denied = Array.isArray(line.permission_denials)
            ? [
                ...new Set(
                  line.permission_denials.map((d) =>
                    isObject(d) ? (str(d.tool_name) ?? 'unknown') : 'unknown',
                  ),
                ),
              ]
            : [];
          if (denied.length > 0)
            events.push(systemMessage(`Permission denied for tools: ${denied.join(', ')}`));
          return events;
        }
        // Partial messages and progress (only with --include-partial-messages) repeat what
        // the complete messages say; control messages belong to the SDK's input protocol.
        case 'stream_event':
        case 'control_request':
        case 'control_response':
          return [];
        default:
          return [systemMessage(raw)];
      }
    },
  });
}
