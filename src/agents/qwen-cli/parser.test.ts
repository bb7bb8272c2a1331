import { describe, expect, it } from 'vitest';
import { EVENT_PAYLOAD_LIMIT } from '../../events.js';
import { expectNeverThrows, runParser } from '../parser-test-kit.js';
import type { AgentExit } from '../types.js';
import { createQwenCliParser, qwenToolKind } from './parser.js';

/** Unit tests of the parser; real CLI output is in the golden fixtures (golden.test.ts). */

const ok: AgentExit = { code: 0, signal: null };

function parseAll(stdout: unknown[], stderr: string[] = [], exit: AgentExit = ok) {
  return runParser(
    createQwenCliParser(),
    stdout.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))),
    stderr,
    exit,
  );
}

const init = { type: 'system', subtype: 'init', session_id: 's1', model: 'qwen3-coder-plus' };
const assistant = (content: unknown[], usage?: Record<string, number>) => ({
  type: 'assistant',
  parent_tool_use_id: null,
  message: { role: 'assistant', content, ...(usage ? { usage } : {}) },
});
const result = (over: Record<string, unknown> = {}) => ({
  type: 'result',
  subtype: 'success',
  is_error: false,
  result: 'Done.',
  usage: { input_tokens: 0, output_tokens: 0 },
  permission_denials: [],
  ...over,
});
const apiError = (text: string) => [
  assistant([{ type: 'text', text }], { input_tokens: 0, output_tokens: 0 }),
  result({
    subtype: 'error_during_execution',
    is_error: true,
    result: undefined,
    error: { message: text },
  }),
];

describe('Qwen Code parser: endings', () => {
  it('takes the final text of a successful result', () => {
    expect(parseAll([init, result()]).outcome).toEqual({ failed: false, finalText: 'Done.' });
  });

  it('fails a run killed by a signal before its result, quoting stderr', () => {
    const { outcome } = parseAll([init], ['Operation cancelled.'], {
      code: null,
      signal: 'SIGTERM',
    });
    expect(outcome).toEqual({
      failed: true,
      failureReason:
        'Qwen Code was terminated by SIGTERM without reporting a result: Operation cancelled.',
    });
  });

  it('fails at its own wall-clock budget (exit 55), with the CLI’s words', () => {
    const { outcome } = parseAll(
      [init],
      ['Run aborted: wall-clock budget of 660s exceeded (--max-wall-time).'],
      { code: 55, signal: null },
    );
    expect(outcome.failed).toBe(true);
    expect(outcome.failureReason).toBe(
      'Qwen Code exited with code 55 without reporting a result: Run aborted: wall-clock budget of 660s exceeded (--max-wall-time).',
    );
  });

  it('fails a clean exit that never reported a result', () => {
    expect(parseAll([init]).outcome.failed).toBe(true);
  });

  it('does not trust a success result followed by a non-zero exit', () => {
    expect(parseAll([init, result()], [], { code: 1, signal: null }).outcome).toEqual({
      failed: true,
      failureReason: 'Qwen Code reported success but exited with code 1',
    });
  });

  it('reports an API error as the CLI speaking, and a 401 as a refused key', () => {
    const text =
      '[API Error: 401 Incorrect API key provided. You can find your API key in your account settings.]';
    const { events, outcome } = parseAll([init, ...apiError(text)], [], { code: 1, signal: null });
    expect(events).toContainEqual({ type: 'agent.message', role: 'system', text });
    expect(events.some((e) => e.type === 'agent.message' && e.role === 'assistant')).toBe(false);
    expect(outcome).toEqual({ failed: true, failureReason: text, credentialsRejected: true });
  });

  it('treats a 403 as a refused key and a 500 or a refused connection as not', () => {
    const forbidden = parseAll(apiError('[API Error: 403 Forbidden]'), [], {
      code: 1,
      signal: null,
    });
    expect(forbidden.outcome.credentialsRejected).toBe(true);
    for (const text of [
      '[API Error: 500 HTTP 500]',
      '[API Error: Connection error. (cause: connect ECONNREFUSED 127.0.0.1:9)]',
    ]) {
      const { outcome } = parseAll(apiError(text), [], { code: 1, signal: null });
      expect(outcome).toEqual({ failed: true, failureReason: text });
    }
  });

  it('names the subtype of an error result without a message', () => {
    const { outcome } = parseAll([result({ subtype: 'error_max_turns', is_error: true })], [], {
      code: 1,
      signal: null,
    });
    expect(outcome).toEqual({ failed: true, failureReason: 'Qwen Code reported error_max_turns' });
  });

  it('lets the session result replace a failed sub-agent’s', () => {
    const subagent = result({
      subtype: 'error_during_execution',
      is_error: true,
      error: { message: 'Subagent could not start' },
    });
    expect(parseAll([init, subagent, result()]).outcome).toEqual({
      failed: false,
      finalText: 'Done.',
    });
  });

  it('caps stderr and says how many lines it left out', () => {
    const stderr = Array.from({ length: 130 }, (_, i) => `line ${i}`);
    const { events } = parseAll([], stderr, { code: 1, signal: null });
    const messages = events.map((e) => (e.type === 'agent.message' ? e.text : ''));
    expect(messages).toHaveLength(101);
    expect(messages[100]).toBe('[stderr] 30 more lines not shown');
  });
});

describe('Qwen Code parser: events', () => {
  it('maps text, thinking, tool calls and results', () => {
    const { events } = parseAll([
      init,
      assistant([{ type: 'thinking', thinking: 'Look first.', signature: '' }]),
      assistant([
        { type: 'tool_use', id: 'c1', name: 'run_shell_command', input: { command: 'ls' } },
      ]),
      {
        type: 'user',
        message: {
          role: 'user',
          content: [{ type: 'tool_result', tool_use_id: 'c1', is_error: false, content: 'a.txt' }],
        },
      },
      {
        type: 'user',
        message: {
          role: 'user',
          content: [
            {
              type: 'tool_result',
              tool_use_id: 'c2',
              is_error: true,
              content: [{ type: 'text', text: 'denied' }, { type: 'image' }],
            },
          ],
        },
      },
      assistant([{ type: 'text', text: 'All done.' }]),
      result({ result: 'All done.' }),
    ]);
    expect(events).toEqual([
      {
        type: 'agent.message',
        role: 'system',
        text: 'Qwen Code session s1 started (model qwen3-coder-plus)',
      },
      { type: 'agent.thinking', text: 'Look first.' },
      {
        type: 'agent.tool_call',
        id: 'c1',
        name: 'run_shell_command',
        kind: 'command',
        input: { command: 'ls' },
      },
      { type: 'agent.tool_result', id: 'c1', ok: true, output: 'a.txt' },
      { type: 'agent.tool_result', id: 'c2', ok: false, output: 'denied\n[image]' },
      { type: 'agent.message', role: 'assistant', text: 'All done.' },
    ]);
  });

  it('reports usage per model call and only what the result adds beyond it', () => {
    const { events } = parseAll([
      assistant([{ type: 'text', text: 'a' }], {
        input_tokens: 100,
        output_tokens: 10,
        cache_read_input_tokens: 40,
      }),
      // Thinking and API errors carry zero usage: no event.
      assistant([{ type: 'thinking', thinking: 'b' }], { input_tokens: 0, output_tokens: 0 }),
      assistant([{ type: 'text', text: 'c' }], { input_tokens: 120, output_tokens: 5 }),
      // 50 + 1 more from a side request the messages did not show; a cost when priced.
      result({
        usage: { input_tokens: 270, output_tokens: 16, cache_read_input_tokens: 40 },
        total_cost_usd: 0.01,
      }),
    ]);
    expect(events.filter((e) => e.type === 'agent.usage')).toEqual([
      { type: 'agent.usage', inputTokens: 100, outputTokens: 10, cacheReadTokens: 40 },
      { type: 'agent.usage', inputTokens: 120, outputTokens: 5 },
      { type: 'agent.usage', inputTokens: 50, outputTokens: 1 },
      { type: 'agent.usage', costUsd: 0.01 },
    ]);
  });

  it('adds nothing when the result total equals the calls already reported', () => {
    const { events } = parseAll([
      assistant([{ type: 'text', text: 'a' }], { input_tokens: 100, output_tokens: 10 }),
      result({ usage: { input_tokens: 100, output_tokens: 10, total_tokens: 110 } }),
    ]);
    expect(events.filter((e) => e.type === 'agent.usage')).toHaveLength(1);
  });

  it('shows retries, fallbacks, notices and denials as system messages', () => {
    const { events } = parseAll([
      { type: 'system', subtype: 'retry', data: { attempt: 2, maxRetries: 3, delayMs: 1500.4 } },
      {
        type: 'system',
        subtype: 'model_fallback',
        data: { fromModel: 'a', toModel: 'b', statusCode: 429 },
      },
      { type: 'system', subtype: 'vision_notice', data: { notice: 'Images are described.' } },
      { type: 'system', subtype: 'session_start', data: {} },
      { type: 'system', subtype: 'something_new' },
      result({
        permission_denials: [
          { tool_name: 'agent', tool_use_id: 'x' },
          { tool_name: 'agent', tool_use_id: 'y' },
          { tool_name: 'write_file' },
        ],
      }),
    ]);
    expect(events.map((e) => (e.type === 'agent.message' ? e.text : e.type))).toEqual([
      'Model request retried (attempt 2 of 3) in 1500 ms',
      'Model a unavailable (429); falling back to b',
      'Images are described.',
      '{"type":"system","subtype":"something_new"}',
      'Permission denied for tools: agent, write_file',
    ]);
  });

  it('keeps quiet about partial-message and control lines', () => {
    const { events } = parseAll([
      { type: 'stream_event', event: { type: 'message_stop' } },
      { type: 'control_request', request: {} },
      { type: 'control_response', response: {} },
    ]);
    expect(events).toEqual([]);
  });

  it('maps tool names to kinds; tool_call has the kind of the tool it runs', () => {
    expect(
      ['read_file', 'zoom_image', 'list_directory', 'lsp'].map((n) => qwenToolKind(n)),
    ).toEqual(Array(4).fill('read'));
    expect(['grep_search', 'glob'].map((n) => qwenToolKind(n))).toEqual(['search', 'search']);
    expect(['write_file', 'edit', 'notebook_edit'].map((n) => qwenToolKind(n))).toEqual(
      Array(3).fill('edit'),
    );
    expect(['run_shell_command', 'exec', 'monitor'].map((n) => qwenToolKind(n))).toEqual(
      Array(3).fill('command'),
    );
    expect(['web_fetch', 'web_search'].map((n) => qwenToolKind(n))).toEqual(['web', 'web']);
    expect(['agent', 'skill', 'todo_write', 'tool_search'].map((n) => qwenToolKind(n))).toEqual(
      Array(4).fill('other'),
    );
    expect(qwenToolKind('tool_call', { name: 'write_file', arguments: {} })).toBe('edit');
    expect(qwenToolKind('tool_call', { name: 'tool_call' })).toBe('other');
    expect(qwenToolKind('tool_call', 'garbage')).toBe('other');
  });
});

describe('Qwen Code parser: limits', () => {
  it('truncates large tool inputs and outputs and unparseable lines to 4 KiB', () => {
    const big = 'é'.repeat(10_000);
    const parser = createQwenCliParser();
    const [call] = parser.line(
      JSON.stringify(
        assistant([{ type: 'tool_use', id: 't', name: 'write_file', input: { content: big } }]),
      ),
      'stdout',
    );
    const input = call?.type === 'agent.tool_call' ? call.input : undefined;
    expect(typeof input).toBe('string');
    expect(Buffer.byteLength(input as string)).toBeLessThanOrEqual(EVENT_PAYLOAD_LIMIT);

    const [res] = parser.line(
      JSON.stringify({
        type: 'user',
        message: { content: [{ type: 'tool_result', tool_use_id: 't', content: big }] },
      }),
      'stdout',
    );
    const output = res?.type === 'agent.tool_result' ? res.output : '';
    expect(Buffer.byteLength(output)).toBeLessThanOrEqual(EVENT_PAYLOAD_LIMIT);
    expect(output).toMatch(/truncated, 20000 bytes in all\]$/);

    const [text] = parser.line(JSON.stringify(assistant([{ type: 'text', text: big }])), 'stdout');
    expect(Buffer.byteLength(text?.type === 'agent.message' ? text.text : '')).toBeLessThanOrEqual(
      EVENT_PAYLOAD_LIMIT,
    );

    const [garbage] = parser.line(`garbage ${big}`, 'stdout');
    const shown = garbage?.type === 'agent.message' ? garbage.text : '';
    expect(Buffer.byteLength(shown)).toBeLessThanOrEqual(EVENT_PAYLOAD_LIMIT);
  });

  it('cuts a long failure reason', () => {
    const { outcome } = parseAll(apiError(`[API Error: 500 ${'x'.repeat(5000)}]`), [], {
      code: 1,
      signal: null,
    });
    expect(Buffer.byteLength(outcome.failureReason ?? '')).toBeLessThanOrEqual(1000);
  });

  it('never throws, whatever the line', () => {
    const parser = createQwenCliParser();
    const weird = [
      '{',
      '}',
      '""',
      '0',
      'null',
      '[1,2]',
      '{"type":null}',
      '{"type":"user"}',
      '{"type":"user","message":{"content":[null,1,{"type":"tool_result"}]}}',
      '{"type":"assistant","message":null}',
      '{"type":"assistant","message":{"content":[null,{"type":"tool_use"},{"type":"text","text":5}],"usage":{"input_tokens":"x"}}}',
      '{"type":"result"}',
      '{"type":"result","is_error":true,"error":"x","usage":[],"permission_denials":[null]}',
      '{"type":"system"}',
      '{"type":"system","subtype":"retry","data":null}',
      '{"type":"system","subtype":"model_fallback"}',
      '\u0000\uffff',
    ];
    expectNeverThrows(parser, weird);
  });
});
