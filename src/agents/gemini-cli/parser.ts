/**
 * Parser for `gemini --output-format stream-json` (Gemini CLI 0.61): one JSON object per
 * stdout line — `init`, `message` (the user's prompt once, then the model's text in chunks
 * with `delta: true`), `tool_use`, `tool_result`, `error` (warnings and non-fatal errors) and
 * a final `result` with `status` (`success` / `error`), the error, and token stats.
 *
 * The model's chunks are joined into one `agent.message` per stretch of text (flushed when
 * the next tool call, error or result arrives, or at the end), not one event per chunk. The
 * result line carries no text: the final answer is the text the model wrote after its last
 * tool call.
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
  toolKinds,
  usageIncrement,
} from '../parsing.js';
import { truncateForEvent, truncateJsonForEvent } from '../truncate.js';
import type { AgentOutcome, AgentOutputParser } from '../types.js';

const DISPLAY_NAME = 'Gemini CLI';

/** The kind of a Gemini CLI tool, for the `agent.tool_call` event. */
export const geminiToolKind = toolKinds({
  read_file: 'read',
  read_many_files: 'read',
  list_directory: 'read',
  get_internal_docs: 'read',
  read_mcp_resource: 'read',
  list_mcp_resources: 'read',
  glob: 'search',
  grep_search: 'search',
  search_file_content: 'search',
  write_file: 'edit',
  replace: 'edit',
  edit: 'edit',
  run_shell_command: 'command',
  list_background_processes: 'command',
  read_background_output: 'command',
  web_fetch: 'web',
  google_web_search: 'web',
});

/**
 * Exit codes the CLI uses for failures it reports only on stderr (before any result line):
 * its `Fatal…Error` classes.
 */
const EXIT_MEANINGS = new Map<number, string>([
  [41, 'authentication is not configured'],
  [42, 'invalid input'],
  [44, 'sandbox error'],
  [52, 'configuration error'],
  [53, 'turn limit reached'],
  [54, 'tool execution failed'],
  [55, 'workspace not trusted'],
]);

/**
 * stderr lines the CLI prints at every start: shown, but never the reason a run failed.
 */
const STARTUP_NOTICES = [
  /^YOLO mode is enabled\b/,
  /^Ripgrep is not available\b/,
  /^Warning: \d+-color support not detected\b/,
];
/** The CLI's start-up timing diagnostics: they say nothing about the job. */
const STARTUP_TIMING = /^\[STARTUP\] /;
/**
 * A stack frame of an error the CLI logs on stderr. The frames, and the indented fields and
 * closing brace of the error object after them, are noise in a job's events: the line
 * before them has the message.
 */
const STACK_FRAME = /^\s+at\s/;

/** Google API statuses that mean the key itself was refused. */
const REJECTED_KEY =
  /\b(UNAUTHENTICATED|PERMISSION_DENIED|API_KEY_INVALID)\b|API key not valid|API key expired/i;

/**
 * A readable failure reason from the CLI's error message, which wraps the API's answer:
 * `[API Error: {"error":{"code":401,"message":"…","status":"UNAUTHENTICATED"}}]` becomes
 * `API error 401 UNAUTHENTICATED: …`. Other messages are kept as they are.
 */
export function describeGeminiError(message: string): { reason: string; status?: number } {
  const wrapped = /^\[API Error: ([\s\S]*)\]([\s\S]*)$/.exec(message.trim());
  if (!wrapped) return { reason: message.trim() };
  const inner = (wrapped[1] ?? '').trim();
  const tail = (wrapped[2] ?? '').trim();
  const withTail = (text: string) => (tail ? `${text} ${tail}` : text);
  let parsed: unknown;
  try {
    parsed = JSON.parse(inner.slice(Math.max(0, inner.indexOf('{'))));
  } catch {
    parsed = undefined;
  }
  const error = isObject(parsed) && isObject(parsed.error) ? parsed.error : undefined;
  if (error) {
    const code = num(error.code);
    const status = str(error.status);
    const label = ['API error', code, status].filter((p) => p !== undefined).join(' ');
    return {
      reason: withTail(`${label}: ${str(error.message) ?? inner}`),
      ...(code !== undefined ? { status: code } : {}),
    };
  }
  // The CLI's own rewording: `[API Error: <message> (Status: UNAUTHENTICATED)]`.
  const withStatus = /^([\s\S]*?)\s*\(Status: ([A-Z_]+)\)$/.exec(inner);
  if (withStatus) return { reason: withTail(`API error ${withStatus[2]}: ${withStatus[1]}`) };
  return { reason: withTail(`API error: ${inner}`) };
}

/** The usage increment of a `result` line's stats (tokens only; the CLI reports no cost). */
function usageEvent(stats: unknown): AgentEvent | undefined {
  if (!isObject(stats) || !num(stats.total_tokens)) return undefined;
  const cached = num(stats.cached);
  const prompt = num(stats.input_tokens);
  // `input_tokens` counts the cached prompt tokens too; `input` is the rest.
  const input =
    num(stats.input) ?? (prompt !== undefined && cached !== undefined ? prompt - cached : prompt);
  return usageIncrement({
    inputTokens: input,
    outputTokens: num(stats.output_tokens),
    cacheReadTokens: cached,
  });
}

/**
 * What a `result` line says about the run. A failed result may carry no error of its own (an
 * invalid model stream): the `error` line before it said why.
 */
function resultOutcome(line: Json, answer: string | undefined, run: RunState): AgentOutcome {
  if (line.status === 'success') {
    return { failed: false, ...(answer !== undefined ? { finalText: answer } : {}) };
  }
  const error = isObject(line.error) ? line.error : {};
  const message = str(error.message)?.trim() || run.errors.at(-1);
  const type = str(error.type);
  const { reason, status } = message
    ? describeGeminiError(message)
    : { reason: `${DISPLAY_NAME} reported ${type ?? `status ${String(line.status)}`}` };
  const rejected =
    status === 401 || status === 403 || REJECTED_KEY.test(reason) || looksLikeRejectedKey(reason);
  return {
    failed: true,
    failureReason: truncateForEvent(reason, 1000),
    ...(rejected ? { credentialsRejected: true } : {}),
  };
}

/** Creates a parser for one Gemini CLI run. */
export function createGeminiCliParser(): AgentOutputParser {
  /** The model's text chunks not yet turned into an event. */
  let pending = '';
  /** The model's text since its last tool call: the answer if the run ends here. */
  let answer: string | undefined;
  let sawResult = false;
  /** Inside the stack trace of an error logged on stderr. */
  let inErrorDump = false;

  const flush = (): AgentEvent[] => {
    const text = pending;
    pending = '';
    if (text === '') return [];
    answer = (answer ?? '') + text;
    return assistantMessage(text);
  };

  const json = (line: Json, raw: string, run: RunState): AgentEvent[] => {
    if (line.type === 'message' && line.role === 'assistant') {
      pending += str(line.content) ?? '';
      // 0.61 always sends chunks (`delta: true`); a whole message is an event of its own.
      return line.delta === true ? [] : flush();
    }
    const events = flush();
    switch (line.type) {
      case 'init': {
        const model = str(line.model) ?? 'unknown model';
        const session = str(line.session_id) ?? 'unknown';
        events.push(systemMessage(`${DISPLAY_NAME} session ${session} started (model ${model})`));
        break;
      }
      // The prompt, echoed: the job already has it.
      case 'message':
        if (line.role !== 'user') events.push(systemMessage(raw));
        break;
      case 'tool_use': {
        const name = str(line.tool_name) ?? 'unknown';
        answer = undefined;
        events.push({
          type: 'agent.tool_call',
          id: str(line.tool_id) ?? '',
          name,
          kind: geminiToolKind(name),
          input: truncateJsonForEvent(line.parameters ?? {}),
        });
        break;
      }
      case 'tool_result': {
        const ok = line.status === 'success';
        const error = isObject(line.error) ? str(line.error.message) : undefined;
        const output = str(line.output) ?? (ok ? '' : (error ?? 'Tool error'));
        answer = undefined;
        events.push({
          type: 'agent.tool_result',
          id: str(line.tool_id) ?? '',
          ok,
          output: truncateForEvent(output),
        });
        break;
      }
      case 'error': {
        const severity = str(line.severity) ?? 'error';
        const message = str(line.message) ?? raw;
        if (severity === 'error') {
          recordError(run, message);
          if (REJECTED_KEY.test(message)) run.credentialsRejected = true;
        }
        events.push(systemMessage(`${DISPLAY_NAME} ${severity}: ${message}`));
        break;
      }
      case 'result': {
        sawResult = true;
        run.outcome = resultOutcome(line, answer, run);
        const usage = usageEvent(line.stats);
        if (usage) events.push(usage);
        break;
      }
      default:
        events.push(systemMessage(raw));
    }
    return events;
  };

  const inner = jsonLinesParser({ displayName: DISPLAY_NAME, json });
  return {
    line(text, stream) {
      if (stream === 'stderr') {
        if (STACK_FRAME.test(text)) {
          inErrorDump = true;
          return [];
        }
        if (inErrorDump) {
          if (/^\s/.test(text)) return [];
          inErrorDump = false;
          if (text.trim() === '}') return [];
        }
        const raw = text.trim();
        if (STARTUP_TIMING.test(raw)) return [];
        if (STARTUP_NOTICES.some((notice) => notice.test(raw))) {
          return [systemMessage(`[stderr] ${raw}`)];
        }
      }
      return inner.line(text, stream);
    },
    end(exit) {
      // Text still pending when the process ended (killed mid-answer) is shown all the same.
      const last = flush();
      const { events, outcome } = inner.end(exit);
      const meaning = exit.code === null ? undefined : EXIT_MEANINGS.get(exit.code);
      if (!sawResult && outcome.failed && meaning && outcome.failureReason) {
        const failureReason = outcome.failureReason.replace(
          `code ${exit.code}`,
          `code ${exit.code} (${meaning})`,
        );
        return { events: [...last, ...events], outcome: { ...outcome, failureReason } };
      }
      return { events: [...last, ...events], outcome };
    },
  };
}
