import { describe, expect, it } from 'vitest';
import { EVENT_PAYLOAD_LIMIT } from '../../events.js';
import { runParser } from '../parser-test-kit.js';
import { STDERR_LINE_CAP } from '../parsing.js';
import type { AgentExit } from '../types.js';
import { createKimiCodeParser, kimiToolKind } from './parser.js';

/**
 * The golden fixtures (src/agents/golden.test.ts, test/fixtures/agents/kimi-code/) hold real
 * runs; these cases cover the shapes a scripted model cannot provoke and the limits.
 */
const OK: AgentExit = { code: 0, signal: null };

function run(stdout: string[], stderr: string[] = [], exit: AgentExit = OK) {
  return runParser(createKimiCodeParser(), stdout, stderr, exit);
}

const line = (value: unknown) => JSON.stringify(value);
const version = line({ role: 'meta', type: 'system.version', version: '2.1.0' });
const hook = (text: string, blocked = false) =>
  line({
    role: 'assistant',
    content: `UserPromptSubmit hook${blocked ? ' blocked' : ''}\n\n${text}`,
  });

describe('Kimi Code parser', () => {
  it('maps tool names to kinds', () => {
    expect(kimiToolKind('Read')).toBe('read');
    expect(kimiToolKind('ReadMediaFile')).toBe('read');
    expect(kimiToolKind('Glob')).toBe('search');
    expect(kimiToolKind('Grep')).toBe('search');
    expect(kimiToolKind('Write')).toBe('edit');
    expect(kimiToolKind('Edit')).toBe('edit');
    expect(kimiToolKind('Bash')).toBe('command');
    expect(kimiToolKind('FetchURL')).toBe('web');
    expect(kimiToolKind('WebSearch')).toBe('web');
    expect(kimiToolKind('Agent')).toBe('other');
    expect(kimiToolKind('mcp__github__create_issue')).toBe('other');
  });

  it('turns a run into messages, tool calls and results, and keeps the last text', () => {
    const { events, outcome } = run([
      version,
      hook('The task:\n\nAdd a file.'),
      line({
        role: 'assistant',
        content: 'Writing it.',
        tool_calls: [
          {
            type: 'function',
            id: 'call_1',
            function: { name: 'Write', arguments: '{"path":"/w/a.txt","content":"A"}' },
          },
        ],
      }),
      line({ role: 'tool', tool_call_id: 'call_1', content: 'Wrote 1 bytes to /w/a.txt' }),
      line({ role: 'assistant', content: 'Done: a.txt.' }),
      line({ role: 'meta', type: 'session.resume_hint', session_id: 's', content: 'resume' }),
    ]);
    expect(events).toEqual([
      { type: 'agent.message', role: 'system', text: 'Kimi Code 2.1.0 started' },
      {
        type: 'agent.message',
        role: 'system',
        text: 'The task reached the model from the prompt file (UserPromptSubmit hook, 11 bytes)',
      },
      { type: 'agent.message', role: 'assistant', text: 'Writing it.' },
      {
        type: 'agent.tool_call',
        id: 'call_1',
        name: 'Write',
        kind: 'edit',
        input: { path: '/w/a.txt', content: 'A' },
      },
      { type: 'agent.tool_result', id: 'call_1', ok: true, output: 'Wrote 1 bytes to /w/a.txt' },
      { type: 'agent.message', role: 'assistant', text: 'Done: a.txt.' },
    ]);
    expect(outcome).toEqual({ failed: false, finalText: 'Done: a.txt.' });
  });

  it('succeeds without a final text when the model said nothing', () => {
    expect(run([version]).outcome).toEqual({ failed: false });
  });

  it('keeps the prompt out of the events: the hook result is summarized', () => {
    const { events } = run([hook('The task:\n\nSECRET-ISH TASK TEXT')]);
    expect(JSON.stringify(events)).not.toContain('SECRET-ISH');
  });

  it('treats a hook-like text after the model spoke as the model speaking', () => {
    const { events, outcome } = run([
      line({ role: 'assistant', content: 'First.' }),
      hook('quoted'),
    ]);
    expect(events.at(-1)).toEqual({
      type: 'agent.message',
      role: 'assistant',
      text: 'UserPromptSubmit hook\n\nquoted',
    });
    expect(outcome.finalText).toBe('UserPromptSubmit hook\n\nquoted');
  });

  it('fails a run whose prompt a hook blocked, with the reason', () => {
    const { outcome } = run([version, hook('no prompts today', true)], [], {
      code: 1,
      signal: null,
    });
    expect(outcome.failed).toBe(true);
    expect(outcome.failureReason).toContain('no prompts today');
  });

  it('marks the failures Kimi words the same way every time as not ok', () => {
    const results = [
      'README.md\nCommand failed with exit code: 3.',
      'Command killed by timeout (120s)',
      'Interrupted by user',
      'Tool "Write" not found',
      'all fine: "Command failed with exit code: 1." was the old output\nnow passing',
    ].map((content, i) => run([line({ role: 'tool', tool_call_id: `c${i}`, content })]).events[0]);
    expect(results.map((e) => (e?.type === 'agent.tool_result' ? e.ok : undefined))).toEqual([
      false,
      false,
      false,
      false,
      true,
    ]);
  });

  it('shows tool output that is not a string as JSON', () => {
    const { events } = run([
      line({ role: 'tool', tool_call_id: 'c', content: [{ type: 'text', text: 'hi' }] }),
      line({ role: 'tool', tool_call_id: 'd' }),
    ]);
    expect(events).toEqual([
      { type: 'agent.tool_result', id: 'c', ok: true, output: '[{"type":"text","text":"hi"}]' },
      { type: 'agent.tool_result', id: 'd', ok: true, output: '' },
    ]);
  });

  it('keeps unparseable tool arguments as text and names nameless tools', () => {
    const { events } = run([
      line({
        role: 'assistant',
        tool_calls: [
          { id: 'a', function: { name: 'Bash', arguments: '{"command": "ls' } },
          { id: 'b', function: { arguments: { already: 'an object' } } },
          'not a call',
        ],
      }),
    ]);
    expect(events).toEqual([
      { type: 'agent.tool_call', id: 'a', name: 'Bash', kind: 'command', input: '{"command": "ls' },
      {
        type: 'agent.tool_call',
        id: 'b',
        name: 'unknown',
        kind: 'other',
        input: { already: 'an object' },
      },
    ]);
  });

  it('cuts long texts, tool inputs and outputs to the event limit', () => {
    const big = 'x'.repeat(3 * EVENT_PAYLOAD_LIMIT);
    const { events } = run([
      line({ role: 'assistant', content: big }),
      line({
        role: 'assistant',
        tool_calls: [
          { id: 'w', function: { name: 'Write', arguments: JSON.stringify({ content: big }) } },
        ],
      }),
      line({ role: 'tool', tool_call_id: 'w', content: big }),
    ]);
    for (const event of events) {
      const payload =
        event.type === 'agent.message'
          ? event.text
          : event.type === 'agent.tool_call'
            ? event.input
            : event.type === 'agent.tool_result'
              ? event.output
              : '';
      expect(typeof payload).toBe('string');
      expect(Buffer.byteLength(payload as string)).toBeLessThanOrEqual(EVENT_PAYLOAD_LIMIT);
    }
  });

  it('reports retries, and a 401 retry as rejected credentials', () => {
    const retry = (status: number) =>
      line({
        role: 'meta',
        type: 'turn.step.retrying',
        failed_attempt: 1,
        next_attempt: 2,
        max_attempts: 3,
        delay_ms: 512.4,
        error_name: 'APIStatusError',
        error_message: `${status} nope`,
        status_code: status,
      });
    const failed: AgentExit = { code: 1, signal: null };
    const server = run([retry(500)], [], failed);
    expect(server.events[0]).toEqual({
      type: 'agent.message',
      role: 'system',
      text: 'Model request failed (HTTP 500, APIStatusError: 500 nope); attempt 2 of 3 in 512 ms',
    });
    expect(server.outcome.credentialsRejected).toBeUndefined();
    expect(run([retry(401)], [], failed).outcome.credentialsRejected).toBe(true);
  });

  it("quotes the CLI's error line, not the log path after it, and spots a rejected key", () => {
    const { events, outcome } = run(
      [version],
      [
        'error: failed to run prompt: provider.auth_error: 401 Invalid Authentication',
        'See log: /w/agent/kimi-code/logs/kimi-code.log',
      ],
      { code: 1, signal: null },
    );
    expect(JSON.stringify(events)).not.toContain('See log');
    expect(outcome).toEqual({
      failed: true,
      failureReason:
        'Kimi Code exited with code 1: provider.auth_error: 401 Invalid Authentication',
      credentialsRejected: true,
    });
  });

  it('fails a run that exits non-zero even after an answer', () => {
    const { outcome } = run([line({ role: 'assistant', content: 'Half done.' })], [], {
      code: null,
      signal: 'SIGKILL',
    });
    expect(outcome).toEqual({ failed: true, failureReason: 'Kimi Code was terminated by SIGKILL' });
  });

  it('shows unknown and malformed lines as system messages', () => {
    const { events } = run([
      'not json at all',
      '[1,2,3]',
      line({ role: 'meta', type: 'goal.summary', content: 'Goal done' }),
      line({ role: 'meta', type: 'something.new', value: 1 }),
      line({ role: 'user', content: 'hello' }),
      '',
    ]);
    expect(events).toEqual([
      { type: 'agent.message', role: 'system', text: 'not json at all' },
      { type: 'agent.message', role: 'system', text: '[1,2,3]' },
      { type: 'agent.message', role: 'system', text: 'Goal done' },
      {
        type: 'agent.message',
        role: 'system',
        text: line({ role: 'meta', type: 'something.new', value: 1 }),
      },
      { type: 'agent.message', role: 'system', text: line({ role: 'user', content: 'hello' }) },
    ]);
  });

  it('caps stderr (tools print their live output there)', () => {
    const stderr = Array.from({ length: STDERR_LINE_CAP + 5 }, (_, i) => `out ${i}`);
    const { events } = run([], stderr);
    expect(events).toHaveLength(STDERR_LINE_CAP + 1);
    expect(events.at(-1)).toEqual({
      type: 'agent.message',
      role: 'system',
      text: '[stderr] 5 more lines not shown',
    });
  });

  it('never throws, whatever the lines', () => {
    const shapes = [
      '{',
      'null',
      '"str"',
      '{"role":"assistant","content":5,"tool_calls":{"x":1}}',
      '{"role":"assistant","tool_calls":[null,{"function":null},{"function":{"name":7}}]}',
      '{"role":"tool","content":null,"tool_call_id":9}',
      '{"role":"meta","type":"turn.step.retrying","status_code":"401","delay_ms":"x"}',
      '{"role":"meta"}',
      '{"role":"assistant","content":"UserPromptSubmit hook blocked\\n\\n"}',
      '\u0000\uffff',
    ];
    for (let i = 0; i < 200; i++) {
      const parser = createKimiCodeParser();
      const picks = Array.from(
        { length: 5 },
        (_, j) => shapes[(i * 7 + j * 3) % shapes.length] ?? '',
      );
      expect(() => {
        for (const pick of picks) parser.line(pick, (i + picks.length) % 3 ? 'stdout' : 'stderr');
        parser.end({ code: i % 2, signal: null });
      }).not.toThrow();
    }
  });
});
