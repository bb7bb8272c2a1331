/**
 * Parser for `kimi -p … --output-format stream-json` (Kimi Code 2.1): one JSON message per
 * stdout line, shaped like OpenAI chat messages —
 * - `{"role":"assistant","content"?,"tool_calls"?:[{id,function:{name,arguments}}]}`, one per
 *   model step (thinking is not printed);
 * - `{"role":"tool","tool_call_id","content"}`: a tool's output (no error flag);
 * - `{"role":"meta","type":…}`: `system.version` first, `turn.step.retrying` per retried
 *   request, `session.resume_hint` last.
 * No usage and no result line: the last assistant text is the answer and the exit code the
 * verdict. A failed run prints `error: failed to run prompt: <code>: <message>` on stderr,
 * then `See log: <file>`; tools' live output goes to stderr too.
 */
import type { AgentEvent } from '../../events.js';
import {
  assistantMessage,
  isObject,
  type Json,
  jsonLinesParser,
  num,
  type RunState,
  recordError,
  str,
  systemMessage,
  toolKinds,
} from '../parsing.js';
import { truncateForEvent, truncateJsonForEvent } from '../truncate.js';
import type { AgentOutputParser } from '../types.js';
import { TASK_HEADING } from './config.js';

/** The kind of a Kimi Code tool, for the `agent.tool_call` event. */
export const kimiToolKind = toolKinds({
  Read: 'read',
  ReadMediaFile: 'read',
  Glob: 'search',
  Grep: 'search',
  Write: 'edit',
  Edit: 'edit',
  Bash: 'command',
  TaskOutput: 'command',
  TaskStop: 'command',
  FetchURL: 'web',
  WebSearch: 'web',
});

/**
 * How Kimi prints a hook's result: as an assistant message `<Event> hook[ blocked]\n\n<text>`.
 * Only UserPromptSubmit results are printed, and ours carries the job's prompt.
 */
const HOOK_RESULT = /^UserPromptSubmit hook( blocked)?\n\n/;
/** The heading our hook prints before the prompt file's text. */
const HOOK_HEADING = `${TASK_HEADING}\n\n`;

/**
 * Tool outputs that end in a failure. The stream drops the tool's error flag, so only the
 * failures Kimi words the same way every time are recognised; any other output counts as ok.
 */
const FAILED_OUTPUT = [
  /(Command failed with exit code: -?\d+\.|Command killed by timeout \([^)]*\)|Interrupted by user)\s*$/,
  // A tool the model was not offered (read-only phases withhold the writing ones).
  /^Tool "[^"\n]*" not found$/,
];

/** A tool call's arguments: the JSON object when they parse, else the raw text. */
function toolInput(args: unknown): unknown {
  if (typeof args !== 'string') return truncateJsonForEvent(args ?? {});
  try {
    return truncateJsonForEvent(JSON.parse(args));
  } catch {
    return truncateForEvent(args);
  }
}

function toolCallEvents(calls: unknown[]): AgentEvent[] {
  const events: AgentEvent[] = [];
  for (const call of calls) {
    if (!isObject(call)) continue;
    const fn = isObject(call.function) ? call.function : {};
    const name = str(fn.name) || 'unknown';
    events.push({
      type: 'agent.tool_call',
      id: str(call.id) ?? '',
      name,
      kind: kimiToolKind(name),
      input: toolInput(fn.arguments),
    });
  }
  return events;
}

/** A tool's output as printed: a string, or parts Kimi serialized as JSON. */
function toolOutput(content: unknown): string {
  if (typeof content === 'string') return content;
  if (content === undefined || content === null) return '';
  return JSON.stringify(content) ?? '';
}

function metaEvents(line: Json, raw: string, run: RunState): AgentEvent[] {
  switch (line.type) {
    case 'system.version':
      return [systemMessage(`Kimi Code ${str(line.version) ?? '(unknown version)'} started`)];
    case 'turn.step.retrying': {
      const status = num(line.status_code);
      if (status === 401 || status === 403) run.credentialsRejected = true;
      const error = [str(line.error_name), str(line.error_message)].filter((p) => p).join(': ');
      const cause = [status === undefined ? '' : `HTTP ${status}`, error]
        .filter((p) => p)
        .join(', ');
      const delay = num(line.delay_ms);
      return [
        systemMessage(
          `Model request failed (${cause || 'unknown error'}); ` +
            `attempt ${num(line.next_attempt) ?? '?'} of ${num(line.max_attempts) ?? '?'}` +
            (delay === undefined ? '' : ` in ${Math.round(delay)} ms`),
        ),
      ];
    }
    // How to resume the session in a terminal: the session lives in the job's workspace,
    // which is gone after the job.
    case 'session.resume_hint':
      return [];
  }
  const content = str(line.content);
  return [systemMessage(content ?? raw)];
}

/** How Kimi's error line on stderr starts when a run fails. */
const CLI_ERROR_PREFIX = 'error: failed to run prompt: ';

/** Creates a parser for one Kimi Code run. */
export function createKimiCodeParser(): AgentOutputParser {
  // The model has not spoken yet: only then is a hook result ours (it precedes the model).
  let modelSpoke = false;

  const assistantEvents = (line: Json, run: RunState): AgentEvent[] => {
    const content = str(line.content);
    const calls = Array.isArray(line.tool_calls) ? line.tool_calls : [];
    const hook = content !== undefined && calls.length === 0 ? HOOK_RESULT.exec(content) : null;
    if (hook && !modelSpoke && content !== undefined) {
      const text = content.slice(hook[0].length);
      const task = text.startsWith(HOOK_HEADING) ? text.slice(HOOK_HEADING.length) : text;
      if (hook[1]) {
        recordError(run, `UserPromptSubmit hook blocked the prompt: ${text}`);
        return [systemMessage(`The UserPromptSubmit hook blocked the prompt: ${text}`)];
      }
      return [
        systemMessage(
          `The task reached the model from the prompt file (UserPromptSubmit hook, ${Buffer.byteLength(task, 'utf8')} bytes)`,
        ),
      ];
    }
    modelSpoke = true;
    if (content?.trim()) run.lastAssistantText = content;
    return [...assistantMessage(content), ...toolCallEvents(calls)];
  };

  const inner = jsonLinesParser({
    displayName: 'Kimi Code',
    withoutResult: 'exit-code',
    json(line, raw, run) {
      switch (line.role) {
        case 'assistant':
          return assistantEvents(line, run);
        case 'tool': {
          const output = toolOutput(line.content);
          return [
            {
              type: 'agent.tool_result',
              id: str(line.tool_call_id) ?? '',
              ok: !FAILED_OUTPUT.some((pattern) => pattern.test(output)),
              output: truncateForEvent(output),
            },
          ];
        }
        case 'meta':
          return metaEvents(line, raw, run);
        default:
          return [systemMessage(raw)];
      }
    },
  });

  return {
    line(text, stream) {
      // After its error line Kimi names its log file; the error, not the path, must be the
      // last stderr line the failure reason quotes. (The log is in the job's workspace.)
      if (stream === 'stderr' && /^See log: /.test(text.trim())) return [];
      return inner.line(text, stream);
    },
    end(exit) {
      const end = inner.end(exit);
      const reason = end.outcome.failureReason;
      // The quoted stderr line repeats what the reason already says: keep the CLI's message.
      if (reason?.includes(CLI_ERROR_PREFIX)) {
        end.outcome.failureReason = reason.replace(`: ${CLI_ERROR_PREFIX}`, ': ');
      }
      return end;
    },
  };
}
