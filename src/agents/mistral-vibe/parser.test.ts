import { describe, expect, it } from 'vitest';
import { EVENT_PAYLOAD_LIMIT } from '../../events.js';
import { expectNeverThrows, runParser } from '../parser-test-kit.js';
import type { AgentExit } from '../types.js';
import { createMistralVibeParser, mistralVibeToolKind } from './parser.js';

/**
 * One streamed message as `StreamingJsonOutputFormatter` prints it (`json.dump` of
 * `LLMMessage.model_dump(mode="json")`): every field, Python's separators.
 */
function message(fields: Record<string, unknown>): string {
  const full = {
    role: 'assistant',
    content: '',
    images: null,
    injected: false,
    reasoning_content: null,
    reasoning_state: null,
    reasoning_signature: null,
    reasoning_message_id: null,
    tool_calls: null,
    name: null,
    tool_call_id: null,
    message_id: 'm1',
    user_display_content: null,
    ...fields,
  };
  return pyJson(full);
}

function pyJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(pyJson).join(', ')}]`;
  if (value !== null && typeof value === 'object')
    return `{${Object.entries(value)
      .map(([k, v]) => `${JSON.stringify(k)}: ${pyJson(v)}`)
      .join(', ')}}`;
  return JSON.stringify(value);
}

function call(id: string, name: string, args: string) {
  return { id, index: 0, function: { name, arguments: args }, type: 'function' };
}

function parseAll(stdout: string[], stderr: string[], exit: AgentExit) {
  return runParser(createMistralVibeParser(), stdout, stderr, exit);
}

const ok: AgentExit = { code: 0, signal: null };
const exit1: AgentExit = { code: 1, signal: null };
const system = message({
  role: 'system',
  content: 'You are Mistral Vibe.\n\nYour model name is: `devstral-small-latest`\n\nMore.',
});
const pointer = message({
  role: 'user',
  content: 'Your task is in the file `/w/agent/prompt.md`.',
});

describe('Mistral Vibe parser: messages', () => {
  it('turns a run into a session note, tool calls with kinds, results and the answer', () => {
    const { events, outcome } = parseAll(
      [
        system,
        pointer,
        message({
          content: 'Let me look.',
          reasoning_content: 'The task is in a file.',
          tool_calls: [call('c1', 'read', '{"file_path": "/w/agent/prompt.md"}')],
        }),
        message({ role: 'tool', content: 'file_path: /w/agent/prompt.md', tool_call_id: 'c1' }),
        message({ tool_calls: [call('c2', 'bash', '{"command": "ls"}')] }),
        message({
          role: 'tool',
          content: "<tool_error>bash failed: Command failed: 'ls'\nReturn code: 2</tool_error>",
          name: 'bash',
          tool_call_id: 'c2',
        }),
        message({ content: 'Done.' }),
      ],
      [],
      ok,
    );
    expect(events).toEqual([
      {
        type: 'agent.message',
        role: 'system',
        text: 'Mistral Vibe session started (model devstral-small-latest)',
      },
      { type: 'agent.thinking', text: 'The task is in a file.' },
      { type: 'agent.message', role: 'assistant', text: 'Let me look.' },
      {
        type: 'agent.tool_call',
        id: 'c1',
        name: 'read',
        kind: 'read',
        input: { file_path: '/w/agent/prompt.md' },
      },
      { type: 'agent.tool_result', id: 'c1', ok: true, output: 'file_path: /w/agent/prompt.md' },
      {
        type: 'agent.tool_call',
        id: 'c2',
        name: 'bash',
        kind: 'command',
        input: { command: 'ls' },
      },
      {
        type: 'agent.tool_result',
        id: 'c2',
        ok: false,
        output: "bash failed: Command failed: 'ls'\nReturn code: 2",
      },
      { type: 'agent.message', role: 'assistant', text: 'Done.' },
    ]);
    expect(outcome).toEqual({ failed: false, finalText: 'Done.' });
  });

  it('marks calls the agent profile did not permit, and cancellations, as failed', () => {
    const results = [
      'Tool execution not permitted.',
      "Tool 'write_file' is permanently disabled",
      '<user_cancellation>Tool execution interrupted by user.</user_cancellation>',
      'path: /w/repo/a.txt\nbytes_written: 1\ncontent: a',
    ].map((content, i) => message({ role: 'tool', content, tool_call_id: `t${i}` }));
    const { events } = parseAll(results, [], ok);
    expect(events.map((e) => (e.type === 'agent.tool_result' ? e.ok : undefined))).toEqual([
      false,
      false,
      false,
      true,
    ]);
  });

  it("shows Vibe's own notes to the model, not the job's message", () => {
    const note = message({
      role: 'user',
      injected: true,
      content: '<vibe_warning>Plan mode is active.</vibe_warning>',
    });
    const { events } = parseAll([pointer, note], [], ok);
    expect(events).toEqual([
      {
        type: 'agent.message',
        role: 'system',
        text: 'Mistral Vibe told the model: Plan mode is active.',
      },
    ]);
  });

  it('takes the last message without tool calls as the answer, also an empty one', () => {
    const { outcome } = parseAll(
      [message({ content: 'First.' }), message({ content: '' })],
      [],
      ok,
    );
    expect(outcome).toEqual({ failed: false, finalText: '' });
    const preamble = parseAll(
      [
        message({ content: 'Answer.' }),
        message({ content: 'Now a call.', tool_calls: [call('x', 'todo', '{}')] }),
      ],
      [],
      ok,
    );
    expect(preamble.outcome).toEqual({ failed: false, finalText: 'Answer.' });
  });

  it('keeps broken tool arguments as text and names a missing tool name', () => {
    const { events } = parseAll(
      [message({ tool_calls: [call('b', 'edit', '{"file_path": '), { id: 'n', function: {} }] })],
      [],
      ok,
    );
    expect(events).toEqual([
      { type: 'agent.tool_call', id: 'b', name: 'edit', kind: 'edit', input: '{"file_path": ' },
      { type: 'agent.tool_call', id: 'n', name: 'unknown', kind: 'other', input: {} },
    ]);
  });

  it('shows unknown roles and lines that are not JSON as system messages', () => {
    const { events } = parseAll(
      ['{"role": "narrator"}', 'Could not create history file: EACCES'],
      [],
      ok,
    );
    expect(events).toEqual([
      { type: 'agent.message', role: 'system', text: '{"role": "narrator"}' },
      { type: 'agent.message', role: 'system', text: 'Could not create history file: EACCES' },
    ]);
  });
});

describe('Mistral Vibe parser: endings', () => {
  it('fails a run killed by a signal', () => {
    const { outcome } = parseAll([system], [], { code: null, signal: 'SIGKILL' });
    expect(outcome).toEqual({
      failed: true,
      failureReason: 'Mistral Vibe was terminated by SIGKILL',
    });
  });

  it('names a rejected key from the CLI message', () => {
    const { outcome } = parseAll(
      [system, pointer],
      [
        'Error: API error from custom (model: m): Invalid API key. Please check your API key and try again.',
      ],
      exit1,
    );
    expect(outcome).toEqual({
      failed: true,
      failureReason:
        'Mistral Vibe exited with code 1: API error from custom (model: m): Invalid API key. Please check your API key and try again.',
      credentialsRejected: true,
    });
  });

  it('sums up a multi-line backend error, a 403 being a rejected key', () => {
    const report = (status: string) => [
      'Error: API error from custom (model: m): LLM backend error [custom]',
      `  status: ${status}`,
      '  reason: Whatever',
      '  request_id: N/A',
      '  endpoint: http://127.0.0.1:1/v1/chat/completions',
      '  model: m',
      '  provider_message: Network error',
      '  body_excerpt: ',
      '  payload_summary: {"model": "m", "message_count": 401, "approx_chars": 403}',
    ];
    const down = parseAll([], report('N/A'), exit1).outcome;
    expect(down).toEqual({
      failed: true,
      failureReason:
        'Mistral Vibe exited with code 1: API error from custom (model: m): LLM backend error [custom] (status: N/A; reason: Whatever; provider_message: Network error)',
    });
    const forbidden = parseAll([], report('403 Forbidden'), exit1).outcome;
    expect(forbidden.credentialsRejected).toBe(true);
  });

  it('reads the last line of a traceback, a stop by a limit and a configuration error', () => {
    const traceback = parseAll(
      [],
      [
        'Traceback (most recent call last):',
        '  File "vibe/core/agent_loop.py", line 1, in _chat',
        'vibe.core.types.RateLimitError: Rate limits exceeded. Please wait a moment before trying again.',
      ],
      exit1,
    ).outcome;
    expect(traceback.failureReason).toBe(
      'Mistral Vibe exited with code 1: vibe.core.types.RateLimitError: Rate limits exceeded. Please wait a moment before trying again.',
    );
    const stopped = parseAll(
      [],
      ['<vibe_stop_event>Turn limit of 3 reached</vibe_stop_event>'],
      exit1,
    ).outcome;
    expect(stopped.failureReason).toBe('Mistral Vibe exited with code 1: Turn limit of 3 reached');
    const config = parseAll(
      ['Invalid configuration (1 error(s)):', '  - models.0.name: Field required'],
      [],
      exit1,
    ).outcome;
    expect(config.failureReason).toBe(
      'Mistral Vibe exited with code 1: Invalid configuration (1 error(s)): (- models.0.name: Field required)',
    );
  });

  it('falls back to the exit and the last stderr line', () => {
    expect(parseAll([], ['something odd'], { code: 3, signal: null }).outcome).toEqual({
      failed: true,
      failureReason: 'Mistral Vibe exited with code 3: something odd',
    });
  });

  it('succeeds on exit 0 despite a warning on stderr', () => {
    const { outcome } = parseAll(
      [message({ content: 'Done.' })],
      ['Warning: /w/repo is not trusted; project configuration (AGENTS.md) will be ignored.'],
      ok,
    );
    expect(outcome).toEqual({ failed: false, finalText: 'Done.' });
  });
});

describe('Mistral Vibe parser: limits', () => {
  it('truncates large tool inputs and outputs to 4 KiB', () => {
    const big = 'é'.repeat(10_000);
    const { events } = parseAll(
      [
        message({
          tool_calls: [call('w', 'write_file', JSON.stringify({ path: 'a', content: big }))],
        }),
        message({ role: 'tool', content: big, tool_call_id: 'w' }),
        message({ content: big }),
      ],
      [],
      ok,
    );
    const [toolCall, result, answer] = events;
    const input = toolCall?.type === 'agent.tool_call' ? toolCall.input : undefined;
    expect(typeof input).toBe('string');
    expect(Buffer.byteLength(input as string)).toBeLessThanOrEqual(EVENT_PAYLOAD_LIMIT);
    const output = result?.type === 'agent.tool_result' ? result.output : '';
    expect(Buffer.byteLength(output)).toBeLessThanOrEqual(EVENT_PAYLOAD_LIMIT);
    const text = answer?.type === 'agent.message' ? answer.text : '';
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(EVENT_PAYLOAD_LIMIT);
  });

  it('caps the failure reason', () => {
    const { outcome } = parseAll([], [`Error: ${'x'.repeat(5000)}`], exit1);
    expect(outcome.failureReason?.length).toBeLessThanOrEqual(1000);
  });

  it('never throws, whatever the line', () => {
    const parser = createMistralVibeParser();
    const weird = [
      '{',
      '}',
      '""',
      '0',
      'null',
      '[]',
      '{"role":null}',
      '{"role":"assistant","tool_calls":{}}',
      '{"role":"assistant","tool_calls":[null,1,{"function":null}]}',
      '{"role":"assistant","content":7}',
      '{"role":"tool","content":null}',
      '{"role":"system","content":["a"]}',
      '{"role":"user","injected":true,"content":{}}',
      '  status: 500',
      'Error: ',
      '\u0000\uffff',
    ];
    expectNeverThrows(parser, weird, 1);
  });
});

describe('Mistral Vibe tool kinds', () => {
  it("maps Vibe's built-in tools", () => {
    expect(['read', 'read_file'].map(mistralVibeToolKind)).toEqual(['read', 'read']);
    expect(['write_file', 'edit', 'search_replace'].map(mistralVibeToolKind)).toEqual(
      Array(3).fill('edit'),
    );
    expect(mistralVibeToolKind('bash')).toBe('command');
    expect(mistralVibeToolKind('grep')).toBe('search');
    expect(['web_fetch', 'web_search'].map(mistralVibeToolKind)).toEqual(['web', 'web']);
    expect(['todo', 'task', 'skill', 'github_create_issue'].map(mistralVibeToolKind)).toEqual(
      Array(4).fill('other'),
    );
  });
});
