import { describe, expect, it } from 'vitest';
import { EVENT_PAYLOAD_LIMIT } from '../../events.js';
import { expectNeverThrows, runParser } from '../parser-test-kit.js';
import type { AgentExit } from '../types.js';
import { codexToolKind, createCodexParser } from './parser.js';

/**
 * The recorded runs are golden fixtures (src/agents/golden.test.ts,
 * test/fixtures/agents/codex/; `reasoning-and-text` is real output too, recorded with a
 * script whose replies carry reasoning, which a prompt directive cannot ask for). These tests
 * cover what the scripted model cannot make the real CLI print: MCP and web-search items,
 * plans, to-do lists, odd endings.
 */

const line = (value: unknown) => JSON.stringify(value);
const started = line({ type: 'thread.started', thread_id: 't1' });
const turn = line({ type: 'turn.started' });
const message = (text: string, id = 'item_9') =>
  line({ type: 'item.completed', item: { id, type: 'agent_message', text } });
const completed = line({
  type: 'turn.completed',
  usage: { input_tokens: 1200, cached_input_tokens: 200, output_tokens: 30 },
});
const ok: AgentExit = { code: 0, signal: null };

function parseAll(stdout: string[], exit: AgentExit = ok, stderr: string[] = []) {
  return runParser(createCodexParser(), stdout, stderr, exit);
}

describe('Codex parser: items', () => {
  it('shows a tool call when the item starts and its result when it completes, once each', () => {
    const item = {
      id: 'item_0',
      type: 'command_execution',
      command: "/bin/bash -lc 'npm test'",
      aggregated_output: '',
      exit_code: null,
      status: 'in_progress',
    };
    const { events } = parseAll([
      line({ type: 'item.started', item }),
      line({ type: 'item.updated', item: { ...item, aggregated_output: 'running' } }),
      line({
        type: 'item.completed',
        item: { ...item, aggregated_output: '1 passed\n', exit_code: 0, status: 'completed' },
      }),
    ]);
    expect(events).toEqual([
      {
        type: 'agent.tool_call',
        id: 'item_0',
        name: 'shell',
        kind: 'command',
        input: { command: "/bin/bash -lc 'npm test'" },
      },
      { type: 'agent.tool_result', id: 'item_0', ok: true, output: '1 passed\n' },
    ]);
  });

  it('shows the call of an item that only completes (file changes may start done)', () => {
    const { events } = parseAll([
      line({
        type: 'item.completed',
        item: {
          id: 'item_1',
          type: 'file_change',
          changes: [
            { path: '/w/a.js', kind: 'update' },
            { path: '/w/b.js', kind: 'delete' },
          ],
          status: 'failed',
        },
      }),
    ]);
    expect(events.slice(0, 2)).toEqual([
      {
        type: 'agent.tool_call',
        id: 'item_1',
        name: 'apply_patch',
        kind: 'edit',
        input: {
          changes: [
            { path: '/w/a.js', kind: 'update' },
            { path: '/w/b.js', kind: 'delete' },
          ],
        },
      },
      {
        type: 'agent.tool_result',
        id: 'item_1',
        ok: false,
        output: 'update /w/a.js\ndelete /w/b.js\n[the patch was not applied]',
      },
    ]);
  });

  it('marks failed and declined commands, naming the exit code', () => {
    const base = { id: 'c', type: 'command_execution', command: 'false' };
    const results = parseAll([
      line({
        type: 'item.completed',
        item: { ...base, aggregated_output: 'boom\n', exit_code: 1, status: 'failed' },
      }),
      line({
        type: 'item.completed',
        item: { ...base, id: 'd', aggregated_output: '', exit_code: null, status: 'declined' },
      }),
    ]).events.filter((e) => e.type === 'agent.tool_result');
    expect(results).toEqual([
      { type: 'agent.tool_result', id: 'c', ok: false, output: 'boom\n[exit code 1]' },
      { type: 'agent.tool_result', id: 'd', ok: false, output: 'The command was declined' },
    ]);
  });

  it('reads MCP calls, web searches and to-do lists', () => {
    const { events } = parseAll([
      line({
        type: 'item.started',
        item: {
          id: 'm',
          type: 'mcp_tool_call',
          server: 'docs',
          tool: 'lookup',
          arguments: { q: 'x' },
          status: 'in_progress',
        },
      }),
      line({
        type: 'item.completed',
        item: {
          id: 'm',
          type: 'mcp_tool_call',
          server: 'docs',
          tool: 'lookup',
          arguments: { q: 'x' },
          result: { content: [{ type: 'text', text: 'found' }, { type: 'image' }] },
          error: null,
          status: 'completed',
        },
      }),
      line({
        type: 'item.completed',
        item: {
          id: 'e',
          type: 'mcp_tool_call',
          server: 'docs',
          tool: 'lookup',
          error: { message: 'server gone' },
          status: 'failed',
        },
      }),
      line({
        type: 'item.started',
        item: { id: 'w', type: 'web_search', query: 'vitest docs', action: { type: 'search' } },
      }),
      line({
        type: 'item.started',
        item: { id: 't', type: 'todo_list', items: [{ text: 'read', completed: false }] },
      }),
      line({
        type: 'item.completed',
        item: {
          id: 't',
          type: 'todo_list',
          items: [
            { text: 'read', completed: true },
            { text: 'write', completed: false },
          ],
        },
      }),
    ]);
    const calls = events.filter((e) => e.type === 'agent.tool_call');
    expect(calls.map((c) => [c.id, c.name, c.kind])).toEqual([
      ['m', 'mcp:docs/lookup', 'other'],
      ['e', 'mcp:docs/lookup', 'other'],
      ['w', 'web_search', 'web'],
      ['t', 'todo_list', 'other'],
    ]);
    expect(calls[0]?.input).toEqual({ q: 'x' });
    expect(calls[2]?.input).toEqual({ query: 'vitest docs', action: { type: 'search' } });
    const results = events.filter((e) => e.type === 'agent.tool_result');
    expect(results).toEqual([
      { type: 'agent.tool_result', id: 'm', ok: true, output: 'found\n[image]' },
      { type: 'agent.tool_result', id: 'e', ok: false, output: 'server gone' },
      { type: 'agent.tool_result', id: 't', ok: true, output: '[x] read\n[ ] write' },
    ]);
  });

  it('reads reasoning as thinking, plans as messages, and item errors as system messages', () => {
    const { events } = parseAll([
      line({ type: 'item.started', item: { id: 'r', type: 'reasoning', text: '' } }),
      line({ type: 'item.completed', item: { id: 'r', type: 'reasoning', text: 'Look first.' } }),
      line({ type: 'item.plan.delta', item_id: 'p', delta: '1.' }),
      line({ type: 'item.completed', item: { id: 'p', type: 'plan', text: '1. Read\n2. Edit' } }),
      line({
        type: 'item.completed',
        item: { id: 'x', type: 'error', message: 'Model metadata for `m` not found.' },
      }),
      line({ type: 'item.completed', item: { id: 'a', type: 'agent_message', text: '  ' } }),
    ]);
    expect(events.slice(0, 3)).toEqual([
      { type: 'agent.thinking', text: 'Look first.' },
      { type: 'agent.message', role: 'assistant', text: '1. Read\n2. Edit' },
      { type: 'agent.message', role: 'system', text: 'Codex: Model metadata for `m` not found.' },
    ]);
  });

  it('shows unknown events and item types as they came', () => {
    const odd = line({ type: 'thread.renamed', name: 'x' });
    const oddItem = line({ type: 'item.completed', item: { id: 'z', type: 'hologram' } });
    const { events } = parseAll([odd, oddItem]);
    expect(events.slice(0, 2)).toEqual([
      { type: 'agent.message', role: 'system', text: odd },
      { type: 'agent.message', role: 'system', text: oddItem },
    ]);
  });
});

describe('Codex parser: endings', () => {
  it('succeeds on turn.completed with exit 0; the last agent message is the answer', () => {
    const { events, outcome } = parseAll([
      started,
      turn,
      message('First.', 'a'),
      message('Done.', 'b'),
      completed,
    ]);
    expect(outcome).toEqual({ failed: false, finalText: 'Done.' });
    expect(events[0]).toEqual({
      type: 'agent.message',
      role: 'system',
      text: 'Codex thread t1 started',
    });
    // OpenAI counts cached input inside input_tokens: reported apart.
    expect(events.at(-1)).toEqual({
      type: 'agent.usage',
      inputTokens: 1000,
      outputTokens: 30,
      cacheReadTokens: 200,
    });
  });

  it('fails a turn.failed with the CLI message, and flags a rejected key', () => {
    const error = 'unexpected status 401 Unauthorized: Incorrect API key provided., url: http://x';
    const { events, outcome } = parseAll(
      [
        started,
        turn,
        line({ type: 'error', message: `Reconnecting... 1/2 (${error})` }),
        line({ type: 'error', message: error }),
        line({ type: 'turn.failed', error: { message: error } }),
      ],
      { code: 1, signal: null },
    );
    expect(outcome).toEqual({ failed: true, failureReason: error, credentialsRejected: true });
    // The final error is shown once, not again for turn.failed.
    expect(events.filter((e) => e.type === 'agent.message' && e.text === error)).toHaveLength(1);
  });

  it('does not take a retry notice for a rejected key or a failure', () => {
    const { outcome } = parseAll(
      [
        started,
        turn,
        line({ type: 'error', message: 'Reconnecting... 1/2 (unexpected status 403 Forbidden)' }),
        message('Recovered.'),
        completed,
      ],
      ok,
    );
    expect(outcome).toEqual({ failed: false, finalText: 'Recovered.' });
  });

  it('fails a server error without flagging the key', () => {
    const { outcome } = parseAll(
      [
        started,
        line({ type: 'error', message: 'We’re currently experiencing high demand.' }),
        line({
          type: 'turn.failed',
          error: { message: 'We’re currently experiencing high demand.' },
        }),
      ],
      { code: 1, signal: null },
    );
    expect(outcome).toEqual({
      failed: true,
      failureReason: 'We’re currently experiencing high demand.',
    });
  });

  it('fails a run killed before the turn ended', () => {
    expect(parseAll([started, turn], { code: null, signal: 'SIGTERM' }).outcome).toEqual({
      failed: true,
      failureReason: 'Codex was terminated by SIGTERM without reporting a result',
    });
  });

  it('fails a config error printed on stderr, quoting it', () => {
    const { outcome } = parseAll([], { code: 1, signal: null }, [
      'Error loading config.toml:',
      'config.toml:3:1: unknown configuration field `x`',
    ]);
    expect(outcome).toEqual({
      failed: true,
      failureReason:
        'Codex exited with code 1 without reporting a result: config.toml:3:1: unknown configuration field `x`',
    });
  });

  it('does not trust a completed turn followed by a non-zero exit', () => {
    const { outcome } = parseAll([started, message('Done.'), completed], {
      code: 1,
      signal: null,
    });
    expect(outcome.failed).toBe(true);
    expect(outcome.failureReason).toBe('Codex reported success but exited with code 1');
  });

  it('fails a top-level error without a turn verdict, even on exit 0', () => {
    const { outcome } = parseAll([started, line({ type: 'error', message: 'stream closed' })]);
    expect(outcome).toEqual({
      failed: true,
      failureReason: 'Codex reported an error: stream closed',
    });
  });
});

describe('Codex parser: payload limits', () => {
  it('truncates large inputs, outputs, messages and unparseable lines to 4 KiB', () => {
    const big = 'é'.repeat(10_000);
    const { events } = parseAll([
      line({
        type: 'item.completed',
        item: {
          id: 'c',
          type: 'command_execution',
          command: big,
          aggregated_output: big,
          exit_code: 0,
          status: 'completed',
        },
      }),
      message(big),
      line({ type: 'item.completed', item: { id: 'r', type: 'reasoning', text: big } }),
      `garbage ${big}`,
    ]);
    for (const event of events) {
      expect(Buffer.byteLength(JSON.stringify(event))).toBeLessThanOrEqual(
        EVENT_PAYLOAD_LIMIT + 200,
      );
    }
    const call = events.find((e) => e.type === 'agent.tool_call');
    expect(typeof (call?.type === 'agent.tool_call' ? call.input : undefined)).toBe('string');
    const result = events.find((e) => e.type === 'agent.tool_result');
    expect(result?.type === 'agent.tool_result' ? result.output : '').toMatch(
      /truncated, 20000 bytes in all\]$/,
    );
  });

  it('never throws, whatever the line', () => {
    const parser = createCodexParser();
    const weird = [
      '{',
      '}',
      '""',
      '0',
      'null',
      '[]',
      '{"type":null}',
      '{"type":"item.started"}',
      '{"type":"item.completed","item":null}',
      '{"type":"item.completed","item":{"type":"command_execution"}}',
      '{"type":"item.completed","item":{"type":"file_change","changes":[null,1]}}',
      '{"type":"item.completed","item":{"type":"mcp_tool_call","result":{"content":[null]}}}',
      '{"type":"item.completed","item":{"type":"todo_list","items":[null]}}',
      '{"type":"turn.completed"}',
      '{"type":"turn.completed","usage":{"input_tokens":"x"}}',
      '{"type":"turn.failed"}',
      '{"type":"turn.failed","error":"x"}',
      '{"type":"error"}',
      '{"type":"request_user_input","questions":[]}',
      '\u0000\uffff',
    ];
    expectNeverThrows(parser, weird);
  });

  it('maps item types to tool kinds', () => {
    expect(
      [
        'command_execution',
        'file_change',
        'web_search',
        'mcp_tool_call',
        'collab_tool_call',
        'todo_list',
        'something_new',
      ].map(codexToolKind),
    ).toEqual(['command', 'edit', 'web', 'other', 'other', 'other', 'other']);
  });
});
