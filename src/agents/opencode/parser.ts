/**
 * Parser for `opencode run --format json` (OpenCode 1.18): one JSON object per stdout line,
 * `{type, timestamp, sessionID, …}` with `type`
 * - `step_start` / `step_finish` around each model request; `step_finish.part` carries the
 *   step's `tokens` (input, output, reasoning, cache read/write) and `cost`;
 * - `text` (`part.text`, a finished text part) and `reasoning` (with `--thinking`);
 * - `tool_use` once a tool is done: `part.tool`, `part.callID`, `part.state` with `status`
 *   `completed` (`input`, `output`, `metadata`) or `error` (`input`, `error`);
 * - `error`: `error.name` and `error.data` (`message`, `statusCode`, `ref`…), also for failed
 *   model requests once OpenCode stops retrying.
 * There is no result line: the last text is the answer, the exit code the verdict (1 after
 * an error). stderr holds OpenCode's log (`--print-logs --log-level ERROR`, logfmt lines) and
 * its notices (a refused permission), which may carry terminal colours.
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
  thinkingEvent,
  toolKinds,
  usageIncrement,
} from '../parsing.js';
import { truncateForEvent, truncateJsonForEvent } from '../truncate.js';
import type { AgentOutputParser } from '../types.js';

/** The kind of an OpenCode tool, for the `agent.tool_call` event (MCP tools are `other`). */
export const opencodeToolKind = toolKinds({
  read: 'read',
  list: 'read',
  lsp: 'read',
  glob: 'search',
  grep: 'search',
  codesearch: 'search',
  write: 'edit',
  edit: 'edit',
  multiedit: 'edit',
  patch: 'edit',
  apply_patch: 'edit',
  bash: 'command',
  shell: 'command',
  webfetch: 'web',
  websearch: 'web',
});

const DISPLAY_NAME = 'OpenCode';

/** The two events of a finished tool: the call and its result. */
function toolEvents(part: Json, raw: string): AgentEvent[] {
  const state = isObject(part.state) ? part.state : undefined;
  const name = str(part.tool);
  if (!state || !name) return [systemMessage(raw)];
  const id = str(part.callID) ?? str(part.id) ?? '';
  const status = str(state.status);
  const metadata = isObject(state.metadata) ? state.metadata : {};
  // A command that exits non-zero is a completed call; its exit says it did not go well.
  const exit = num(metadata.exit);
  const ok = status === 'completed' && (exit === undefined || exit === 0);
  const output =
    status === 'error'
      ? (str(state.error) ?? 'the tool failed')
      : (str(state.output) ?? JSON.stringify(state.output ?? ''));
  return [
    {
      type: 'agent.tool_call',
      id,
      name,
      kind: opencodeToolKind(name),
      input: truncateJsonForEvent(state.input ?? {}),
    },
    { type: 'agent.tool_result', id, ok, output: truncateForEvent(output) },
  ];
}

/** Finish reasons worth a word: the step ended without the model finishing its turn. */
const FINISH_NOTES = new Map(
  Object.entries({
    length: 'The model stopped at its output token limit',
    'content-filter': "The model's answer was stopped by a content filter",
  }),
);

/** The usage increment of a `step_finish` and a note when the step was cut short. */
function stepFinishEvents(part: Json): AgentEvent[] {
  const tokens = isObject(part.tokens) ? part.tokens : {};
  const cache = isObject(tokens.cache) ? tokens.cache : {};
  const output = num(tokens.output);
  const reasoning = num(tokens.reasoning) ?? 0;
  const cost = num(part.cost);
  const usage = usageIncrement({
    inputTokens: tokens.input,
    // Reasoning tokens are billed as output; OpenCode counts them apart.
    outputTokens: output === undefined ? undefined : output + reasoning,
    cacheReadTokens: cache.read,
    cacheWriteTokens: cache.write,
    // OpenCode reports 0 for a model without prices: unknown, not free.
    costUsd: cost !== undefined && cost > 0 ? cost : undefined,
  });
  const note = FINISH_NOTES.get(str(part.reason) ?? '');
  return [...(usage ? [usage] : []), ...(note ? [systemMessage(note)] : [])];
}

/** Error names that mean the provider refused or lacks the credentials. */
const AUTH_ERRORS = new Set(['ProviderAuthError']);

/** The CLI's error, as a sentence that keeps its own message and the HTTP status. */
function errorText(error: Json): { text: string; status?: number } {
  const name = str(error.name) ?? 'Error';
  const data = isObject(error.data) ? error.data : {};
  const status = num(data.statusCode);
  const message = str(data.message) ?? str(error.message) ?? 'no message';
  const provider = str(data.providerID);
  const ref = str(data.ref);
  const parts = [
    status === undefined ? name : `${name} ${status}`,
    provider ? ` (${provider})` : '',
    `: ${message}`,
    // The log line with this reference holds the cause (see createOpencodeParser).
    ref ? ` [${ref}]` : '',
  ];
  return { text: parts.join(''), ...(status !== undefined ? { status } : {}) };
}

function errorEvents(line: Json, raw: string, run: RunState): AgentEvent[] {
  const error = isObject(line.error) ? line.error : undefined;
  if (!error) {
    recordError(run, raw);
    return [systemMessage(raw)];
  }
  const { text, status } = errorText(error);
  recordError(run, text);
  if (status === 401 || status === 403 || AUTH_ERRORS.has(str(error.name) ?? '')) {
    run.credentialsRejected = true;
  }
  return [systemMessage(`${DISPLAY_NAME} error: ${text}`)];
}

function stdoutEvents(line: Json, raw: string, run: RunState): AgentEvent[] {
  const part = isObject(line.part) ? line.part : undefined;
  switch (line.type) {
    case 'text': {
      const text = str(part?.text);
      if (text === undefined) return [systemMessage(raw)];
      if (text.trim()) run.lastAssistantText = text;
      return assistantMessage(text);
    }
    case 'reasoning':
      return part ? thinkingEvent(str(part.text)) : [systemMessage(raw)];
    case 'tool_use':
      return part ? toolEvents(part, raw) : [systemMessage(raw)];
    case 'step_finish':
      return part ? stepFinishEvents(part) : [systemMessage(raw)];
    // A step begins: the model is asked. Nothing to show until it answers.
    case 'step_start':
      return [];
    case 'error':
      return errorEvents(line, raw, run);
    default:
      return [systemMessage(raw)];
  }
}

/** Terminal colour and cursor sequences, which OpenCode's notices on stderr carry. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching ESC is the point
const ANSI = /\u001b\[[0-9;?]*[A-Za-z]/g;

/** The fields of a logfmt line (`key=value key="quoted \"value\""`). */
export function parseLogfmt(line: string): Map<string, string> {
  const fields = new Map<string, string>();
  const pattern = /([\w.-]+)=(?:"((?:[^"\\]|\\.)*)"|(\S*))/g;
  for (const match of line.matchAll(pattern)) {
    const quoted = match[2];
    const value =
      quoted === undefined
        ? (match[3] ?? '')
        : quoted.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    fields.set(match[1] ?? '', value);
  }
  return fields;
}

/** An OpenCode log line, shortened to what it says; undefined for other stderr lines. */
function describeLogLine(line: string): { text: string; ref?: string; error?: string } | undefined {
  if (!/^timestamp=\S+ level=[A-Z]+ /.test(line)) return undefined;
  const fields = parseLogfmt(line);
  const error = fields.get('error.error') ?? fields.get('error');
  const ref = fields.get('ref');
  const model = [fields.get('providerID'), fields.get('modelID')].filter(Boolean).join('/');
  const text = [
    `${fields.get('level') ?? 'LOG'} ${fields.get('message') ?? ''}`.trim(),
    model ? ` (${model})` : '',
    ref ? ` [${ref}]` : '',
    error ? `: ${error}` : '',
  ].join('');
  return { text, ...(ref ? { ref } : {}), ...(error ? { error } : {}) };
}

/**
 * Creates a parser for one OpenCode run. stderr lines lose their colours, and OpenCode's log
 * lines are shortened (their stack traces dropped); a failure whose message only refers to
 * the log (`[err_…]`) is completed with the logged cause.
 */
/** How many logged error causes a run keeps (the newest). */
const LOGGED_CAUSES = 50;

export function createOpencodeParser(): AgentOutputParser {
  const inner = jsonLinesParser({
    displayName: DISPLAY_NAME,
    json: stdoutEvents,
    withoutResult: 'exit-code',
  });
  const logged = new Map<string, string>();
  return {
    line(text, stream) {
      if (stream === 'stdout') return inner.line(text, stream);
      const plain = text.replace(ANSI, '');
      const log = describeLogLine(plain.trim());
      if (log?.ref && log.error) {
        logged.set(log.ref, log.error);
        // Only a recent cause can complete the failure: keep the map small in a long run.
        if (logged.size > LOGGED_CAUSES) logged.delete(logged.keys().next().value as string);
      }
      return inner.line(log ? log.text : plain, stream);
    },
    end(exit) {
      const result = inner.end(exit);
      const reason = result.outcome.failureReason;
      if (!reason) return result;
      for (const [ref, cause] of logged) {
        if (!reason.includes(`[${ref}]`)) continue;
        const failureReason = truncateForEvent(`${reason}: ${cause}`, 1000);
        return { ...result, outcome: { ...result.outcome, failureReason } };
      }
      return result;
    },
  };
}
