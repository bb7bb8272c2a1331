import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { EVENT_PAYLOAD_LIMIT } from '../../events.js';
import type { AgentContext } from '../adapter.js';
import { expectNeverThrows, runParser } from '../parser-test-kit.js';
import { truncateForEvent, truncateJsonForEvent } from '../truncate.js';
import type { AgentExit } from '../types.js';
import { claudeCodeAdapter } from './adapter.js';
import { claudeCodeArgs } from './command-args.js';
import { claudeToolKind, createClaudeCodeParser } from './parser.js';

/**
 * Golden tests: `<case>.jsonl` is real stdout of the pinned CLI (re-record with
 * test/support/record-claude-fixture.ts), except the synthetic `garbage-lines`;
 * `<case>.expected.json` holds the exit and stderr of the run and the events and outcome
 * the parser must make of them.
 */
const FIXTURES = fileURLToPath(
  new URL('../../../test/fixtures/agents/claude-code/', import.meta.url),
);

interface Expected {
  exit: AgentExit;
  stderr: string[];
  events: unknown[];
  outcome: unknown;
}

function parseAll(stdout: string[], stderr: string[], exit: AgentExit) {
  return runParser(createClaudeCodeParser(), stdout, stderr, exit);
}

const cases = readdirSync(FIXTURES)
  .filter((f) => f.endsWith('.jsonl'))
  .map((f) => f.slice(0, -'.jsonl'.length))
  .sort();

describe('Claude Code parser: golden fixtures', () => {
  it('has the recorded cases', () => {
    expect(cases).toEqual(
      expect.arrayContaining([
        'write-two-files',
        'text-only',
        'api-401',
        'api-500',
        'api-529-retried',
        'mixed-tools',
        'killed-while-waiting',
        'garbage-lines',
      ]),
    );
  });

  it.each(cases)('%s', (name) => {
    const stdout = readFileSync(`${FIXTURES}${name}.jsonl`, 'utf8').split('\n');
    const expected = JSON.parse(
      readFileSync(`${FIXTURES}${name}.expected.json`, 'utf8'),
    ) as Expected;
    const actual = parseAll(stdout, expected.stderr, expected.exit);
    expect(actual.events).toEqual(expected.events);
    expect(actual.outcome).toEqual(expected.outcome);
  });

  // The recorder writes the arguments it ran the CLI with; a fixture recorded with other
  // flags than the adapter's (say, without --allowedTools Bash) shows other behaviour.
  it.each(cases.filter((name) => name !== 'garbage-lines'))(
    '%s was recorded with the arguments the adapter runs the CLI with',
    (name) => {
      const expected = JSON.parse(readFileSync(`${FIXTURES}${name}.expected.json`, 'utf8')) as {
        args?: string[];
      };
      const ctx = {
        binary: 'claude',
        checkoutDir: '/w',
        configDir: '/w/c',
        baseEnv: {},
        phase: 'execution',
        model: { keyName: 'ANTHROPIC_API_KEY', key: 'k' },
      };
      const adapterArgs = claudeCodeAdapter.command(ctx as unknown as AgentContext).args;
      expect(expected.args).toEqual(adapterArgs);
      expect(adapterArgs).toEqual(claudeCodeArgs());
    },
  );

  it('reads the two writes, the answer and the cost of a real run', () => {
    const stdout = readFileSync(`${FIXTURES}write-two-files.jsonl`, 'utf8').split('\n');
    const { events, outcome } = parseAll(stdout, [], { code: 0, signal: null });
    const calls = events.filter((e) => e.type === 'agent.tool_call');
    expect(calls.map((c) => [c.name, c.kind])).toEqual([
      ['Write', 'edit'],
      ['Write', 'edit'],
    ]);
    expect(events.filter((e) => e.type === 'agent.tool_result').every((r) => r.ok)).toBe(true);
    const usage = events.find((e) => e.type === 'agent.usage');
    expect(usage?.inputTokens).toBeGreaterThan(0);
    expect(usage?.costUsd).toBeGreaterThan(0);
    expect(outcome).toEqual({ failed: false, finalText: 'Added hello.txt and docs/notes.md.' });
  });
});

describe('Claude Code parser: endings', () => {
  const init = JSON.stringify({ type: 'system', subtype: 'init', session_id: 's', model: 'm' });
  const success = JSON.stringify({
    type: 'result',
    subtype: 'success',
    is_error: false,
    result: 'Done.',
  });

  it('fails a run killed by a signal before its result', () => {
    const { outcome } = parseAll([init], [], { code: null, signal: 'SIGKILL' });
    expect(outcome).toEqual({
      failed: true,
      failureReason: 'Claude Code was terminated by SIGKILL without reporting a result',
    });
  });

  it('fails a non-zero exit without a result, quoting the last stderr line', () => {
    const { outcome } = parseAll([init], ['Error: boom', 'at somewhere'], {
      code: 2,
      signal: null,
    });
    expect(outcome.failed).toBe(true);
    expect(outcome.failureReason).toBe(
      'Claude Code exited with code 2 without reporting a result: at somewhere',
    );
  });

  it('fails a clean exit that never reported a result', () => {
    const { outcome } = parseAll([init], [], { code: 0, signal: null });
    expect(outcome.failed).toBe(true);
  });

  it('does not trust a success result followed by a non-zero exit', () => {
    const { outcome } = parseAll([init, success], [], { code: 1, signal: null });
    expect(outcome).toEqual({
      failed: true,
      failureReason: 'Claude Code reported success but exited with code 1',
    });
  });

  it('takes the final text of a successful result', () => {
    expect(parseAll([init, success], [], { code: 0, signal: null }).outcome).toEqual({
      failed: false,
      finalText: 'Done.',
    });
  });

  it('fails on an error subtype and on is_error, naming the API status', () => {
    const during = JSON.stringify({
      type: 'result',
      subtype: 'error_during_execution',
      is_error: true,
    });
    expect(parseAll([during], [], { code: 1, signal: null }).outcome.failureReason).toBe(
      'Claude Code failed during execution',
    );
    const withErrors = JSON.stringify({
      type: 'result',
      subtype: 'error_during_execution',
      errors: ['x', 'y'],
    });
    expect(parseAll([withErrors], [], { code: 1, signal: null }).outcome.failureReason).toBe(
      'x; y',
    );
    const api = JSON.stringify({
      type: 'result',
      subtype: 'success',
      is_error: true,
      result: 'Bad key',
      api_error_status: 403,
    });
    expect(parseAll([api], [], { code: 1, signal: null }).outcome.failureReason).toBe(
      'API error 403: Bad key',
    );
  });

  it('caps stderr and says how many lines it left out', () => {
    const stderr = Array.from({ length: 130 }, (_, i) => `line ${i}`);
    const { events } = parseAll([], stderr, { code: 1, signal: null });
    const messages = events.map((e) => (e.type === 'agent.message' ? e.text : ''));
    expect(messages).toHaveLength(101);
    expect(messages[0]).toBe('[stderr] line 0');
    expect(messages[100]).toBe('[stderr] 30 more lines not shown');
  });
});

describe('Claude Code parser: payload limits', () => {
  it('truncates large tool inputs and outputs and unparseable lines to 4 KiB', () => {
    const big = 'é'.repeat(10_000);
    const parser = createClaudeCodeParser();
    const [call] = parser.line(
      JSON.stringify({
        type: 'assistant',
        message: {
          content: [{ type: 'tool_use', id: 't', name: 'Write', input: { content: big } }],
        },
      }),
      'stdout',
    );
    expect(call?.type).toBe('agent.tool_call');
    const input = call?.type === 'agent.tool_call' ? call.input : undefined;
    expect(typeof input).toBe('string');
    expect(Buffer.byteLength(input as string)).toBeLessThanOrEqual(EVENT_PAYLOAD_LIMIT);

    const [result] = parser.line(
      JSON.stringify({
        type: 'user',
        message: { content: [{ type: 'tool_result', tool_use_id: 't', content: big }] },
      }),
      'stdout',
    );
    const output = result?.type === 'agent.tool_result' ? result.output : '';
    expect(Buffer.byteLength(output)).toBeLessThanOrEqual(EVENT_PAYLOAD_LIMIT);
    expect(output).toMatch(/truncated, 20000 bytes in all\]$/);

    const [garbage] = parser.line(`garbage ${big}`, 'stdout');
    const text = garbage?.type === 'agent.message' ? garbage.text : '';
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(EVENT_PAYLOAD_LIMIT);
  });

  it('never throws, whatever the line', () => {
    const parser = createClaudeCodeParser();
    const weird = [
      '{',
      '}',
      '""',
      '0',
      'true',
      '{"type":null}',
      '{"type":"user"}',
      '{"type":"assistant","message":null}',
      '{"type":"result"}',
      '{"type":"system"}',
      '\u0000\uffff',
    ];
    expectNeverThrows(parser, weird);
  });

  it('maps tool names to kinds', () => {
    expect(['Read', 'NotebookRead', 'LS'].map(claudeToolKind)).toEqual(['read', 'read', 'read']);
    expect(['Glob', 'Grep'].map(claudeToolKind)).toEqual(['search', 'search']);
    expect(['Write', 'Edit', 'MultiEdit', 'NotebookEdit'].map(claudeToolKind)).toEqual(
      Array(4).fill('edit'),
    );
    expect(['Bash', 'BashOutput', 'KillShell'].map(claudeToolKind)).toEqual(
      Array(3).fill('command'),
    );
    expect(['WebFetch', 'WebSearch'].map(claudeToolKind)).toEqual(['web', 'web']);
    expect(['Task', 'TodoWrite', 'mcp__x__y'].map(claudeToolKind)).toEqual(Array(3).fill('other'));
  });
});

describe('truncate', () => {
  it('leaves strings within the limit alone', () => {
    expect(truncateForEvent('short')).toBe('short');
    const exact = 'a'.repeat(EVENT_PAYLOAD_LIMIT);
    expect(truncateForEvent(exact)).toBe(exact);
  });

  it('cuts on a character boundary and marks the cut', () => {
    const out = truncateForEvent('😀'.repeat(100), 100);
    expect(Buffer.byteLength(out)).toBeLessThanOrEqual(100);
    expect(out).not.toContain('\uFFFD');
    expect(out).toMatch(/^(?:😀)+… \[truncated, 400 bytes in all\]$/u);
  });

  it('keeps small JSON structured and turns large JSON into a marked string', () => {
    const small = { a: [1, 2, 3] };
    expect(truncateJsonForEvent(small)).toBe(small);
    const large = { text: 'x'.repeat(5000) };
    const out = truncateJsonForEvent(large);
    expect(typeof out).toBe('string');
    expect((out as string).startsWith('{"text":"xxx')).toBe(true);
    expect(Buffer.byteLength(out as string)).toBeLessThanOrEqual(EVENT_PAYLOAD_LIMIT);
    expect(truncateJsonForEvent(undefined)).toBeNull();
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    expect(truncateJsonForEvent(circular)).toBe('[object Object]');
  });
});
