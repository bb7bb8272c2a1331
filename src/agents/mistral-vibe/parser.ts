/**
 * Parser for `vibe -p … --output streaming` (Mistral Vibe 2.18): every message added to the
 * conversation is printed as one JSON line, `LLMMessage.model_dump(mode="json")` (upstream
 * `vibe/core/output_formatters.py` StreamingJsonOutputFormatter, `vibe/core/types.py`
 * LLMMessage): `role` system | user | assistant | tool, `content`, `reasoning_content`,
 * `tool_calls` ({id, index, function: {name, arguments}, type}), `name` and `tool_call_id` on
 * tool results, `injected` on messages Vibe adds itself. There is no result line and no usage:
 * the last assistant message is the answer, the exit code the verdict (0, or 1 with an
 * `Error: …` on stderr, `vibe/cli/cli.py` `_run_programmatic_mode`).
 */
import type { AgentEvent } from '../../events.js';
import {
  assistantMessage,
  describeExit,
  isObject,
  type Json,
  jsonLinesParser,
  looksLikeRejectedKey,
  type RunState,
  str,
  systemMessage,
  thinkingEvent,
  toolKinds,
} from '../parsing.js';
import { truncateForEvent, truncateJsonForEvent } from '../truncate.js';
import type { AgentOutputParser } from '../types.js';

const DISPLAY_NAME = 'Mistral Vibe';

/**
 * Vibe's built-in tools (`vibe/core/tools/builtins/`, named from their class), with the names
 * of 1.x (`read_file`, `search_replace`) for older installs. MCP and connector tools: other.
 */
export const mistralVibeToolKind = toolKinds({
  bash: 'command',
  read: 'read',
  read_file: 'read',
  grep: 'search',
  write_file: 'edit',
  edit: 'edit',
  search_replace: 'edit',
  web_fetch: 'web',
  web_search: 'web',
});

/** Vibe's tags around texts meant for the model (`vibe/core/utils/tags.py`). */
const TAGGED = /^<(tool_error|user_cancellation|vibe_warning|vibe_stop_event)>([\s\S]*)<\/\1>$/;

function untagged(text: string): { tag?: string; text: string } {
  const match = TAGGED.exec(text.trim());
  return match ? { tag: match[1], text: (match[2] ?? '').trim() } : { text };
}

/**
 * Tool results that are not results: a failure (`<tool_error>`), a cancellation, or a call the
 * agent profile did not permit (headless, an approval is a refusal: `_ask_approval`, and a
 * `never` permission says the tool is disabled).
 */
function toolFailed(content: string, tag: string | undefined): boolean {
  if (tag === 'tool_error' || tag === 'user_cancellation') return true;
  return /^Tool execution not permitted\.?$|^Tool '[^']*' is permanently disabled/.test(
    content.trim(),
  );
}

function toolCallEvents(calls: unknown): AgentEvent[] {
  if (!Array.isArray(calls)) return [];
  return calls.flatMap((call): AgentEvent[] => {
    if (!isObject(call)) return [];
    const fn = isObject(call.function) ? call.function : {};
    const name = str(fn.name) ?? 'unknown';
    const args = str(fn.arguments) ?? '';
    let input: unknown;
    try {
      input = truncateJsonForEvent(args.trim() === '' ? {} : JSON.parse(args));
    } catch {
      // Arguments the model sent as broken JSON: shown as they came.
      input = truncateForEvent(args);
    }
    return [
      {
        type: 'agent.tool_call',
        id: str(call.id) ?? '',
        name,
        kind: mistralVibeToolKind(name),
        input,
      },
    ];
  });
}

function messageEvents(line: Json, raw: string, run: RunState): AgentEvent[] {
  const content = str(line.content);
  switch (line.role) {
    case 'system': {
      // The system prompt: long and Vibe's own; only the model it names is news.
      const model = /Your model name is: `([^`]+)`/.exec(content ?? '')?.[1];
      return [systemMessage(`${DISPLAY_NAME} session started${model ? ` (model ${model})` : ''}`)];
    }
    case 'user':
      // Messages Vibe adds for the model (middleware reminders, hook retries) are its notes;
      // the job's own message is the fixed pointer to the prompt file.
      return line.injected === true && content?.trim()
        ? [systemMessage(`${DISPLAY_NAME} told the model: ${untagged(content).text}`)]
        : [];
    case 'assistant': {
      const calls = toolCallEvents(line.tool_calls);
      // The answer is the last message that calls no tool; text beside a call is a preamble.
      if (calls.length === 0) run.lastAssistantText = content ?? '';
      return [
        ...thinkingEvent(str(line.reasoning_content)),
        ...assistantMessage(content),
        ...calls,
      ];
    }
    case 'tool': {
      const { tag, text } = untagged(content ?? '');
      return [
        {
          type: 'agent.tool_result',
          id: str(line.tool_call_id) ?? '',
          ok: !toolFailed(text, tag),
          output: truncateForEvent(text),
        },
      ];
    }
    default:
      return [systemMessage(raw)];
  }
}

/**
 * The error Vibe printed last, from either stream: `Error: …` (stderr, programmatic mode, and
 * stdout for startup errors), `Invalid configuration (…)`, the last line of a Python
 * traceback, or a stop by `--max-turns`/`--max-price` (`<vibe_stop_event>`). Indented lines
 * after it carry the details of a backend error (`vibe/core/llm/exceptions.py` BackendError:
 * status, reason, provider_message) or of a configuration error (`- field: message`).
 */
class LastError {
  private block: string[] | undefined;
  private open = false;

  take(text: string): void {
    if (text.startsWith('{')) {
      // A message line (the bulk of the output): never an error, and it ends any error block.
      this.open = false;
      return;
    }
    const line = text.trimEnd();
    if (line.trim() === '') return;
    if (/^\s/.test(line)) {
      // A backend error has three detail lines; a configuration error a few: keep it short.
      if (
        this.open &&
        (this.block?.length ?? 0) < 20 &&
        /^\s+(?:(?:status|reason|provider_message): |- )/.test(line)
      )
        this.block?.push(line.trim());
      return;
    }
    this.open = false;
    const start =
      /^Error: (.+)$/.exec(line)?.[1] ??
      /^(Invalid configuration.*)$/.exec(line)?.[1] ??
      /^((?:[A-Za-z_]\w*\.)*[A-Za-z_]\w*(?:Error|Exception): .+)$/.exec(line)?.[1] ??
      /^<vibe_stop_event>([\s\S]*)<\/vibe_stop_event>$/.exec(line)?.[1];
    if (start === undefined) return;
    this.block = [start.trim()];
    this.open = true;
  }

  reason(): string | undefined {
    if (!this.block) return undefined;
    const [first, ...details] = this.block;
    return details.length > 0 ? `${first} (${details.join('; ')})` : first;
  }
}

/** Creates a parser for one Mistral Vibe run. */
export function createMistralVibeParser(): AgentOutputParser {
  const inner = jsonLinesParser({
    displayName: DISPLAY_NAME,
    withoutResult: 'exit-code',
    json: (line, raw, run) => messageEvents(line, raw, run),
  });
  const lastError = new LastError();
  return {
    line(text, stream) {
      lastError.take(text);
      return inner.line(text, stream);
    },
    end(exit) {
      const end = inner.end(exit);
      const reason = lastError.reason();
      if (!end.outcome.failed || reason === undefined) return end;
      // Vibe's error text in place of the last stderr line, which for a backend error is only
      // the tail of a multi-line report.
      return {
        events: end.events,
        outcome: {
          failed: true,
          failureReason: truncateForEvent(`${DISPLAY_NAME} ${describeExit(exit)}: ${reason}`, 1000),
          ...(looksLikeRejectedKey(reason) ? { credentialsRejected: true } : {}),
        },
      };
    },
  };
}
