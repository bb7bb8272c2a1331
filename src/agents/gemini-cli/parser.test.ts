import { describe, expect, it } from 'vitest';
import { EVENT_PAYLOAD_LIMIT } from '../../events.js';
import { expectNeverThrows, runParser } from '../parser-test-kit.js';
import type { AgentExit } from '../types.js';
import { createGeminiCliParser, describeGeminiError, geminiToolKind } from './parser.js';

/**
 * Unit tests of the stream-json parser; the golden fixtures (src/agents/golden.test.ts) cover
 * real output of the pinned CLI.
 */
const line = (value: Record<string, unknown>) => JSON.stringify(value);
const init = line({ type: 'init', session_id: 's1', model: 'gemini-2.5-pro' });
const user = line({ type: 'message', role: 'user', content: 'Do the thing.' });
const delta = (content: string) =>
  line({ type: 'message', role: 'assistant', content, delta: true });
const toolUse = (id: string, name = 'write_file', parameters: unknown = { file_path: 'a.txt' }) =>
  line({ type: 'tool_use', tool_name: name, tool_id: id, parameters });
const toolResult = (id: string, extra: Record<string, unknown> = { status: 'success' }) =>
  line({ type: 'tool_result', tool_id: id, ...extra });
const stats = {
  total_tokens: 1500,
  input_tokens: 1400,
  output_tokens: 100,
  cached: 400,
  input: 1000,
  duration_ms: 10,
  tool_calls: 1,
  models: {},
};
const success = line({ type: 'result', status: 'success', stats });
const apiError = (message: string) =>
  line({
    type: 'result',
    status: 'error',
    error: { type: 'unknown', message },
    stats: { ...stats, total_tokens: 0, input_tokens: 0, output_tokens: 0, cached: 0, input: 0 },
  });
const CLEAN: AgentExit = { code: 0, signal: null };

function parseAll(stdout: string[], stderr: string[] = [], exit: AgentExit = CLEAN) {
  return runParser(createGeminiCliParser(), stdout, stderr, exit);
}

const messages = (events: ReturnType<typeof parseAll>['events']) =>
  events.flatMap((e) => (e.type === 'agent.message' ? [`${e.role}: ${e.text}`] : []));

describe('Gemini CLI parser: messages and answers', () => {
  it('joins the chunks of a stretch of text into one message, not one per chunk', () => {
    const { events, outcome } = parseAll([
      init,
      user,
      delta('I will '),
      delta('write it.'),
      toolUse('t1'),
      toolResult('t1'),
      delta('Wrote '),
      delta('a.txt.'),
      success,
    ]);
    expect(messages(events)).toEqual([
      'system: Gemini CLI session s1 started (model gemini-2.5-pro)',
      'assistant: I will write it.',
      'assistant: Wrote a.txt.',
    ]);
    // The answer is what the model said after its last tool call.
    expect(outcome).toEqual({ failed: false, finalText: 'Wrote a.txt.' });
  });

  it('keeps the whole answer when a warning splits it', () => {
    const warning = line({ type: 'error', severity: 'warning', message: 'Loop detected' });
    const { events, outcome } = parseAll([
      delta('Part one, '),
      warning,
      delta('part two.'),
      success,
    ]);
    expect(messages(events)).toEqual([
      'assistant: Part one, ',
      'system: Gemini CLI warning: Loop detected',
      'assistant: part two.',
    ]);
    expect(outcome.finalText).toBe('Part one, part two.');
  });

  it('has no answer when the model said nothing after its last tool call', () => {
    const { outcome } = parseAll([delta('Let me look.'), toolUse('t1'), toolResult('t1'), success]);
    expect(outcome).toEqual({ failed: false });
  });

  it('does not repeat the prompt the CLI echoes', () => {
    expect(parseAll([user]).events).toEqual([]);
  });

  it('shows text still pending when the process ends without a result', () => {
    const { events, outcome } = parseAll([delta('half an ans')], [], {
      code: null,
      signal: 'SIGKILL',
    });
    expect(messages(events)).toEqual(['assistant: half an ans']);
    expect(outcome.failed).toBe(true);
  });
});

describe('Gemini CLI parser: tools and usage', () => {
  it('reads tool calls and results, failed ones with their error', () => {
    const { events } = parseAll([
      toolUse('run_shell_command__1', 'run_shell_command', { command: 'ls' }),
      toolResult('run_shell_command__1', { status: 'success', output: 'README.md' }),
      toolUse('write_file__2'),
      toolResult('write_file__2', {
        status: 'error',
        output: 'Tool execution denied by policy.',
        error: { type: 'policy_violation', message: 'Tool execution denied by policy.' },
      }),
      toolUse('replace__3', 'replace'),
      toolResult('replace__3', { status: 'error', error: { message: 'No match' } }),
    ]);
    expect(events).toEqual([
      {
        type: 'agent.tool_call',
        id: 'run_shell_command__1',
        name: 'run_shell_command',
        kind: 'command',
        input: { command: 'ls' },
      },
      { type: 'agent.tool_result', id: 'run_shell_command__1', ok: true, output: 'README.md' },
      {
        type: 'agent.tool_call',
        id: 'write_file__2',
        name: 'write_file',
        kind: 'edit',
        input: { file_path: 'a.txt' },
      },
      {
        type: 'agent.tool_result',
        id: 'write_file__2',
        ok: false,
        output: 'Tool execution denied by policy.',
      },
      {
        type: 'agent.tool_call',
        id: 'replace__3',
        name: 'replace',
        kind: 'edit',
        input: { file_path: 'a.txt' },
      },
      { type: 'agent.tool_result', id: 'replace__3', ok: false, output: 'No match' },
    ]);
  });

  it('reports tokens from the result: fresh input, output and cache reads', () => {
    const { events } = parseAll([success]);
    expect(events).toEqual([
      { type: 'agent.usage', inputTokens: 1000, outputTokens: 100, cacheReadTokens: 400 },
    ]);
    const older = line({
      type: 'result',
      status: 'success',
      stats: { total_tokens: 10, input_tokens: 8, output_tokens: 2, cached: 3 },
    });
    expect(parseAll([older]).events).toEqual([
      { type: 'agent.usage', inputTokens: 5, outputTokens: 2, cacheReadTokens: 3 },
    ]);
  });

  it('reports no usage for a run that used no tokens', () => {
    const { events } = parseAll([apiError('[API Error: boom]')], [], { code: 1, signal: null });
    expect(events.filter((e) => e.type === 'agent.usage')).toEqual([]);
  });

  it('maps tool names to kinds', () => {
    expect(['read_file', 'read_many_files', 'list_directory'].map(geminiToolKind)).toEqual(
      Array(3).fill('read'),
    );
    expect(['glob', 'grep_search', 'search_file_content'].map(geminiToolKind)).toEqual(
      Array(3).fill('search'),
    );
    expect(['write_file', 'replace'].map(geminiToolKind)).toEqual(['edit', 'edit']);
    expect(['run_shell_command', 'read_background_output'].map(geminiToolKind)).toEqual([
      'command',
      'command',
    ]);
    expect(['web_fetch', 'google_web_search'].map(geminiToolKind)).toEqual(['web', 'web']);
    expect(
      ['write_todos', 'update_topic', 'invoke_agent', 'mcp_srv_tool'].map(geminiToolKind),
    ).toEqual(Array(4).fill('other'));
  });
});

describe('Gemini CLI parser: failures', () => {
  it('names the API status of a rejected key and flags the credentials', () => {
    const message =
      '[API Error: {"error":{"code":401,"message":"API key not valid. Please pass a valid API key.","status":"UNAUTHENTICATED"}}]';
    const { outcome } = parseAll([init, apiError(message)], [], { code: 145, signal: null });
    expect(outcome).toEqual({
      failed: true,
      failureReason:
        'API error 401 UNAUTHENTICATED: API key not valid. Please pass a valid API key.',
      credentialsRejected: true,
    });
  });

  it("flags Google's 400 for an invalid key as rejected credentials too", () => {
    const message =
      '[API Error: {"error":{"code":400,"message":"API key not valid. Please pass a valid API key.","status":"INVALID_ARGUMENT"}}]';
    const { outcome } = parseAll([apiError(message)], [], { code: 144, signal: null });
    expect(outcome.credentialsRejected).toBe(true);
    expect(outcome.failureReason).toMatch(/^API error 400 INVALID_ARGUMENT: API key not valid/);
  });

  it('does not blame the key for a server error or an unreachable endpoint', () => {
    const server = parseAll(
      [apiError('[API Error: {"error":{"code":500,"message":"Internal","status":"INTERNAL"}}]')],
      [],
      { code: 244, signal: null },
    ).outcome;
    expect(server).toEqual({ failed: true, failureReason: 'API error 500 INTERNAL: Internal' });
    const down = parseAll(
      [apiError('[API Error: exception TypeError: fetch failed sending request]')],
      [],
      { code: 1, signal: null },
    ).outcome;
    expect(down).toEqual({
      failed: true,
      failureReason: 'API error: exception TypeError: fetch failed sending request',
    });
  });

  it('fails a result with an error status even when the process exits 0', () => {
    const invalid = line({
      type: 'result',
      status: 'error',
      error: { type: 'INVALID_STREAM', message: 'Model stream ended with an empty response.' },
    });
    expect(parseAll([invalid]).outcome).toEqual({
      failed: true,
      failureReason: 'Model stream ended with an empty response.',
    });
    const bare = line({ type: 'result', status: 'error' });
    expect(parseAll([bare]).outcome.failureReason).toBe('Gemini CLI reported status error');
    // An invalid stream: the error line says why, the result only that it failed.
    const why = line({ type: 'error', severity: 'error', message: 'Model stream was invalid.' });
    expect(parseAll([why, bare]).outcome.failureReason).toBe('Model stream was invalid.');
  });

  it('does not trust a success result followed by a non-zero exit', () => {
    const { outcome } = parseAll([success], [], { code: 1, signal: null });
    expect(outcome).toEqual({
      failed: true,
      failureReason: 'Gemini CLI reported success but exited with code 1',
    });
  });

  it('explains the exit codes the CLI uses before any output', () => {
    const { outcome } = parseAll([], ['Invalid auth method selected.'], { code: 41, signal: null });
    expect(outcome).toEqual({
      failed: true,
      failureReason:
        'Gemini CLI exited with code 41 (authentication is not configured) without reporting a result: Invalid auth method selected.',
    });
    expect(parseAll([], [], { code: 55, signal: null }).outcome.failureReason).toContain(
      'code 55 (workspace not trusted)',
    );
  });

  it('fails a clean exit without a result, with the last error the CLI reported', () => {
    const error = line({
      type: 'error',
      severity: 'error',
      message: 'Maximum session turns exceeded',
    });
    expect(parseAll([init, error]).outcome).toEqual({
      failed: true,
      failureReason: 'Gemini CLI reported an error: Maximum session turns exceeded',
    });
    expect(parseAll([init]).outcome).toEqual({
      failed: true,
      failureReason: 'Gemini CLI exited with code 0 without reporting a result',
    });
  });
});

describe('Gemini CLI parser: stderr', () => {
  it('drops stack traces and start-up timings, and never quotes start-up notices as the reason', () => {
    const stderr = [
      'YOLO mode is enabled. All tool calls will be automatically approved.',
      "[STARTUP] Phase 'cleanup_ops' was started but never ended. Skipping metrics.",
      'Error when talking to Gemini API _ApiError: {"error":{"code":500}}',
      '    at throwErrorIfNotOK (file:///x/chunk.js:1:2)',
      '    at async Turn.run (file:///x/chunk.js:3:4) {',
      '  status: 500',
      '}',
      'Ripgrep is not available. Falling back to GrepTool.',
    ];
    const { events, outcome } = parseAll([], stderr, { code: 1, signal: null });
    expect(messages(events)).toEqual([
      'system: [stderr] YOLO mode is enabled. All tool calls will be automatically approved.',
      'system: [stderr] Error when talking to Gemini API _ApiError: {"error":{"code":500}}',
      'system: [stderr] Ripgrep is not available. Falling back to GrepTool.',
    ]);
    expect(outcome.failureReason).toBe(
      'Gemini CLI exited with code 1 without reporting a result: Error when talking to Gemini API _ApiError: {"error":{"code":500}}',
    );
  });

  it('caps stderr and says how many lines it left out', () => {
    const stderr = Array.from({ length: 130 }, (_, i) => `line ${i}`);
    const { events } = parseAll([], stderr, { code: 1, signal: null });
    const texts = messages(events);
    expect(texts).toHaveLength(101);
    expect(texts[100]).toBe('system: [stderr] 30 more lines not shown');
  });
});

describe('Gemini CLI parser: limits', () => {
  it('truncates large tool inputs, outputs, messages and unparseable lines to 4 KiB', () => {
    const big = 'é'.repeat(10_000);
    const { events } = parseAll([
      toolUse('t', 'write_file', { content: big }),
      toolResult('t', { status: 'success', output: big }),
      delta(big),
      `garbage ${big}`,
    ]);
    for (const event of events) {
      const payload =
        event.type === 'agent.tool_call'
          ? event.input
          : event.type === 'agent.tool_result'
            ? event.output
            : event.type === 'agent.message'
              ? event.text
              : '';
      expect(typeof payload).toBe('string');
      expect(Buffer.byteLength(payload as string)).toBeLessThanOrEqual(EVENT_PAYLOAD_LIMIT);
    }
    expect(events).toHaveLength(4);
  });

  it('never throws, whatever the line', () => {
    const parser = createGeminiCliParser();
    const weird = [
      '{',
      '}',
      '""',
      '0',
      'null',
      '[]',
      '{"type":null}',
      '{"type":"init"}',
      '{"type":"message"}',
      '{"type":"message","role":"assistant","content":7,"delta":true}',
      '{"type":"tool_use","parameters":null}',
      '{"type":"tool_result","error":"x"}',
      '{"type":"error","message":{}}',
      '{"type":"result","status":"error","error":{"message":"[API Error: {"}}',
      '{"type":"result","stats":{"total_tokens":"x"}}',
      '{"type":"something_new"}',
      '\u0000\uffff',
    ];
    expectNeverThrows(parser, weird);
  });

  it('shows unknown line types as system messages', () => {
    const raw = line({ type: 'something_new', x: 1 });
    expect(messages(parseAll([raw]).events)).toEqual([`system: ${raw}`]);
  });
});

describe('describeGeminiError', () => {
  it('unwraps the API error JSON the CLI quotes', () => {
    expect(
      describeGeminiError(
        '[API Error: {"error":{"code":429,"message":"Quota exceeded","status":"RESOURCE_EXHAUSTED"}}]\nPossible quota limitations.',
      ),
    ).toEqual({
      reason: 'API error 429 RESOURCE_EXHAUSTED: Quota exceeded Possible quota limitations.',
      status: 429,
    });
  });

  it("reads the CLI's own status form and keeps other messages", () => {
    expect(
      describeGeminiError('[API Error: Permission denied (Status: PERMISSION_DENIED)]'),
    ).toEqual({
      reason: 'API error PERMISSION_DENIED: Permission denied',
    });
    expect(describeGeminiError('[API Error: {not json]')).toEqual({
      reason: 'API error: {not json',
    });
    expect(describeGeminiError('Operation cancelled.')).toEqual({ reason: 'Operation cancelled.' });
  });
});
