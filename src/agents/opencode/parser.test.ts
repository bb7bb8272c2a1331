import { describe, expect, it } from 'vitest';
import { EVENT_PAYLOAD_LIMIT } from '../../events.js';
import { expectNeverThrows, runParser } from '../parser-test-kit.js';
import type { AgentExit } from '../types.js';
import { createOpencodeParser, opencodeToolKind, parseLogfmt } from './parser.js';

/** The golden fixtures (src/agents/golden.test.ts) cover real runs; these cover the edges. */

const OK: AgentExit = { code: 0, signal: null };

function parseAll(stdout: string[], stderr: string[] = [], exit: AgentExit = OK) {
  return runParser(createOpencodeParser(), stdout, stderr, exit);
}

const line = (type: string, rest: Record<string, unknown> = {}) =>
  JSON.stringify({ type, timestamp: 1, sessionID: 'ses_1', ...rest });
const text = (t: string) => line('text', { part: { type: 'text', text: t } });
const tool = (name: string, state: Record<string, unknown>) =>
  line('tool_use', { part: { type: 'tool', tool: name, callID: 'call_1', state } });
const apiError = (status: number, message: string) =>
  line('error', { error: { name: 'APIError', data: { message, statusCode: status } } });

describe('OpenCode parser: events', () => {
  it('turns a finished tool into its call and its result', () => {
    const { events } = parseAll([
      tool('write', {
        status: 'completed',
        input: { filePath: '/w/a.txt', content: 'A\n' },
        output: 'Wrote file successfully.',
      }),
    ]);
    expect(events).toEqual([
      {
        type: 'agent.tool_call',
        id: 'call_1',
        name: 'write',
        kind: 'edit',
        input: { filePath: '/w/a.txt', content: 'A\n' },
      },
      { type: 'agent.tool_result', id: 'call_1', ok: true, output: 'Wrote file successfully.' },
    ]);
  });

  it('marks a refused or failed tool and a command with a non-zero exit as not ok', () => {
    const refused = tool('write', {
      status: 'error',
      input: { filePath: '/etc/x' },
      error: 'The user rejected permission to use this specific tool call.',
    });
    const failing = tool('bash', {
      status: 'completed',
      input: { command: 'false' },
      output: '',
      metadata: { exit: 1 },
    });
    const results = parseAll([refused, failing]).events.filter(
      (e) => e.type === 'agent.tool_result',
    );
    expect(results).toEqual([
      {
        type: 'agent.tool_result',
        id: 'call_1',
        ok: false,
        output: 'The user rejected permission to use this specific tool call.',
      },
      { type: 'agent.tool_result', id: 'call_1', ok: false, output: '' },
    ]);
  });

  it('reports each step’s usage, reasoning tokens as output, and a cost only when priced', () => {
    const step = (cost: number) =>
      line('step_finish', {
        part: {
          type: 'step-finish',
          reason: 'stop',
          tokens: { input: 100, output: 20, reasoning: 5, cache: { read: 50, write: 7 } },
          cost,
        },
      });
    expect(parseAll([step(0.25), step(0)]).events).toEqual([
      {
        type: 'agent.usage',
        inputTokens: 100,
        outputTokens: 25,
        cacheReadTokens: 50,
        cacheWriteTokens: 7,
        costUsd: 0.25,
      },
      {
        type: 'agent.usage',
        inputTokens: 100,
        outputTokens: 25,
        cacheReadTokens: 50,
        cacheWriteTokens: 7,
      },
    ]);
  });

  it('says when a step stopped at the output limit', () => {
    const cut = line('step_finish', { part: { reason: 'length', tokens: {} } });
    expect(parseAll([cut]).events).toEqual([
      {
        type: 'agent.message',
        role: 'system',
        text: 'The model stopped at its output token limit',
      },
    ]);
  });

  it('shows text and reasoning, and nothing for a step start', () => {
    const { events } = parseAll([
      line('step_start', { part: { type: 'step-start' } }),
      line('reasoning', { part: { type: 'reasoning', text: 'Let me look.' } }),
      text('Looking.'),
      text('   '),
    ]);
    expect(events).toEqual([
      { type: 'agent.thinking', text: 'Let me look.' },
      { type: 'agent.message', role: 'assistant', text: 'Looking.' },
    ]);
  });

  it('maps tool names to kinds', () => {
    expect(['read', 'list', 'lsp'].map(opencodeToolKind)).toEqual(['read', 'read', 'read']);
    expect(['glob', 'grep', 'codesearch'].map(opencodeToolKind)).toEqual(Array(3).fill('search'));
    expect(['write', 'edit', 'multiedit', 'patch', 'apply_patch'].map(opencodeToolKind)).toEqual(
      Array(5).fill('edit'),
    );
    expect(['bash', 'shell'].map(opencodeToolKind)).toEqual(['command', 'command']);
    expect(['webfetch', 'websearch'].map(opencodeToolKind)).toEqual(['web', 'web']);
    expect(
      ['task', 'todowrite', 'skill', 'question', 'github_create_issue'].map(opencodeToolKind),
    ).toEqual(Array(5).fill('other'));
  });
});

describe('OpenCode parser: endings', () => {
  it('takes the last text as the answer of a clean exit', () => {
    expect(parseAll([text('First.'), text('Done.')]).outcome).toEqual({
      failed: false,
      finalText: 'Done.',
    });
  });

  it('succeeds without an answer when the model said nothing', () => {
    expect(parseAll([]).outcome).toEqual({ failed: false });
  });

  it('fails a run killed by a signal', () => {
    expect(parseAll([text('Working.')], [], { code: null, signal: 'SIGKILL' }).outcome).toEqual({
      failed: true,
      failureReason: 'OpenCode was terminated by SIGKILL',
    });
  });

  it("fails with the CLI's own message and status, and flags a rejected key", () => {
    const { events, outcome } = parseAll([apiError(401, 'Incorrect API key provided.')], [], {
      code: 1,
      signal: null,
    });
    expect(events).toEqual([
      {
        type: 'agent.message',
        role: 'system',
        text: 'OpenCode error: APIError 401: Incorrect API key provided.',
      },
    ]);
    expect(outcome).toEqual({
      failed: true,
      failureReason: 'OpenCode exited with code 1: APIError 401: Incorrect API key provided.',
      credentialsRejected: true,
    });
  });

  it('flags a missing or refused provider login as rejected credentials', () => {
    const auth = line('error', {
      error: { name: 'ProviderAuthError', data: { providerID: 'openai', message: 'No key' } },
    });
    expect(parseAll([auth], [], { code: 1, signal: null }).outcome).toEqual({
      failed: true,
      failureReason: 'OpenCode exited with code 1: ProviderAuthError (openai): No key',
      credentialsRejected: true,
    });
  });

  it('does not take a server error for a rejected key', () => {
    const { outcome } = parseAll([apiError(500, 'HTTP 500')], [], { code: 1, signal: null });
    expect(outcome).toEqual({
      failed: true,
      failureReason: 'OpenCode exited with code 1: APIError 500: HTTP 500',
    });
  });

  it('fails a clean exit after an error', () => {
    const { outcome } = parseAll([text('Hm.'), apiError(500, 'HTTP 500')]);
    expect(outcome.failed).toBe(true);
    expect(outcome.failureReason).toBe('OpenCode reported an error: APIError 500: HTTP 500');
  });

  it('completes an error that refers to the log with the logged cause', () => {
    const unknown = line('error', {
      error: {
        name: 'UnknownError',
        data: { message: 'Unexpected server error. Check server logs for details.', ref: 'err_1' },
      },
    });
    const log =
      'timestamp=2026-11-29T19:43:52.444Z level=ERROR run=d59f message=failed ref=err_1 ' +
      'error="ProviderModelNotFoundError: Model not found: viberator/x." cause="long\\n stack"';
    const { events, outcome } = parseAll([unknown], [log], { code: 1, signal: null });
    expect(events.at(-1)).toEqual({
      type: 'agent.message',
      role: 'system',
      text: '[stderr] ERROR failed [err_1]: ProviderModelNotFoundError: Model not found: viberator/x.',
    });
    expect(outcome).toEqual({
      failed: true,
      failureReason:
        'OpenCode exited with code 1: UnknownError: Unexpected server error. Check server logs ' +
        'for details. [err_1]: ProviderModelNotFoundError: Model not found: viberator/x.',
    });
  });

  it('quotes stderr without its colours when the CLI printed no error', () => {
    const { events, outcome } = parseAll(
      [],
      ['\u001b[91m\u001b[1mError: \u001b[0mConfig file is not valid JSON'],
      { code: 1, signal: null },
    );
    expect(events).toEqual([
      {
        type: 'agent.message',
        role: 'system',
        text: '[stderr] Error: Config file is not valid JSON',
      },
    ]);
    expect(outcome.failureReason).toBe(
      'OpenCode exited with code 1: Error: Config file is not valid JSON',
    );
  });
});

describe('OpenCode parser: limits', () => {
  it('truncates large tool inputs, outputs and texts to 4 KiB', () => {
    const big = 'é'.repeat(10_000);
    const { events } = parseAll([
      tool('write', { status: 'completed', input: { content: big }, output: big }),
      text(big),
      `garbage ${big}`,
    ]);
    for (const event of events) {
      const payload =
        event.type === 'agent.tool_call'
          ? String(event.input)
          : event.type === 'agent.tool_result'
            ? event.output
            : event.type === 'agent.message'
              ? event.text
              : '';
      expect(Buffer.byteLength(payload)).toBeLessThanOrEqual(EVENT_PAYLOAD_LIMIT);
    }
    expect(events).toHaveLength(4);
  });

  it('caps stderr and says how many lines it left out', () => {
    const stderr = Array.from({ length: 130 }, (_, i) => `line ${i}`);
    const { events } = parseAll([], stderr, { code: 1, signal: null });
    expect(events).toHaveLength(101);
    expect(events.at(-1)).toEqual({
      type: 'agent.message',
      role: 'system',
      text: '[stderr] 30 more lines not shown',
    });
  });

  it('never throws, whatever the line', () => {
    const parser = createOpencodeParser();
    const weird = [
      '{',
      '}',
      '""',
      '0',
      'null',
      '[]',
      '{"type":null}',
      '{"type":"text"}',
      '{"type":"text","part":{"text":5}}',
      '{"type":"tool_use","part":{"tool":"bash","state":null}}',
      '{"type":"tool_use","part":{"tool":"bash","state":{"status":"completed","output":{"a":1}}}}',
      '{"type":"step_finish","part":{"tokens":{"cache":null}}}',
      '{"type":"error"}',
      '{"type":"error","error":{"data":null}}',
      '{"type":"something_new"}',
      'timestamp=x level=ERROR message="unterminated',
      '\u0000\uffff',
    ];
    expectNeverThrows(parser, weird, 1);
  });

  it('shows lines of unknown types as they are', () => {
    const unknown = line('something_new', { part: {} });
    expect(parseAll([unknown]).events).toEqual([
      { type: 'agent.message', role: 'system', text: unknown },
    ]);
  });
});

describe('parseLogfmt', () => {
  it('reads bare and quoted values, unescaping quotes and newlines', () => {
    const fields = parseLogfmt(
      'timestamp=2026 level=ERROR message="stream error" error.error="A \\"b\\"\\nc" x=',
    );
    expect(Object.fromEntries(fields)).toEqual({
      timestamp: '2026',
      level: 'ERROR',
      message: 'stream error',
      'error.error': 'A "b"\nc',
      x: '',
    });
  });
});
