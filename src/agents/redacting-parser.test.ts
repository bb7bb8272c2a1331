import { describe, expect, it } from 'vitest';
import { EVENT_PAYLOAD_LIMIT } from '../events.js';
import { Redactor } from '../secrets/redactor.js';
import { createClaudeCodeParser } from './claude-code/parser.js';
import { redactingParser } from './redacting-parser.js';

const SECRET = 'sk-ant-planted-7f3c9a1e5b2d4f6a8c0e';
const PREFIX = SECRET.slice(0, 8);

function redactor(...secrets: string[]): Redactor {
  const r = new Redactor();
  for (const secret of secrets) r.add(secret);
  return r;
}

/** A Claude Code `user` line carrying one tool result. */
function toolResultLine(content: unknown): string {
  return JSON.stringify({
    type: 'user',
    message: { content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content }] },
  });
}

/** Tool outputs with the secret starting at every offset around the 4 KiB cut. */
const straddling = Array.from(
  { length: 80 },
  (_, i) => `${'a'.repeat(EVENT_PAYLOAD_LIMIT - 100 + i)}${SECRET}${'b'.repeat(2000)}`,
);

describe('redactingParser around the Claude Code parser', () => {
  it('the bare parser leaks the start of a secret straddling the 4 KiB cut (the bug)', () => {
    const parser = createClaudeCodeParser();
    const events = straddling.flatMap((output) => parser.line(toolResultLine(output), 'stdout'));
    // What EventStream does afterwards: redaction no longer finds the cut secret.
    const emitted = JSON.stringify(redactor(SECRET).value(events));
    expect(emitted).toContain(PREFIX);
  });

  it('no prefix of the secret reaches any event, whatever the offset', () => {
    const r = redactor(SECRET);
    const parser = redactingParser(createClaudeCodeParser(), (text) => r.text(text));
    const events = straddling.flatMap((output) => parser.line(toolResultLine(output), 'stdout'));
    expect(events).toHaveLength(straddling.length);
    expect(events.every((e) => e.type === 'agent.tool_result')).toBe(true);
    expect(JSON.stringify(events)).not.toContain(PREFIX);
    // The line stayed JSON: the parser read the tool result, with the secret replaced.
    const first = events[0];
    expect(first?.type === 'agent.tool_result' && first.output).toContain('a[REDACTED]b');
  });

  it('catches a secret in its JSON-escaped form (quotes, backslashes) in tool input and text blocks', () => {
    const tricky = 'pw-"quoted"\\back\\slash-9d8c7b6a';
    const r = redactor(tricky);
    const parser = redactingParser(createClaudeCodeParser(), (text) => r.text(text));
    const call = JSON.stringify({
      type: 'assistant',
      message: {
        content: [
          {
            type: 'tool_use',
            id: 'toolu_2',
            name: 'Bash',
            input: {
              command: `${'x'.repeat(EVENT_PAYLOAD_LIMIT - 65)}${tricky}${'y'.repeat(500)}`,
            },
          },
        ],
      },
    });
    const result = toolResultLine([{ type: 'text', text: `${'z'.repeat(4040)}${tricky}` }]);
    const events = [...parser.line(call, 'stdout'), ...parser.line(result, 'stdout')];
    expect(events.map((e) => e.type)).toEqual(['agent.tool_call', 'agent.tool_result']);
    const emitted = JSON.stringify(events);
    expect(emitted).not.toContain('pw-');
    expect(emitted).not.toContain(JSON.stringify(tricky).slice(1, 9));
  });

  it('redacts stderr lines and final answers before the parser keeps them', () => {
    const r = redactor(SECRET);
    const parser = redactingParser(createClaudeCodeParser(), (text) => r.text(text));
    parser.line(`Error: ${'e'.repeat(440)}${SECRET}`, 'stderr'); // the excerpt is cut near 450 bytes
    const { outcome } = parser.end({ code: 1, signal: null });
    expect(outcome.failureReason).toContain('[REDACTED]');
    expect(outcome.failureReason).not.toContain(PREFIX);
  });

  it('keeps the structure when a raw match would break an escape sequence', () => {
    // The secret "nABC…" matches inside the escape `\nABC…` of a line that only holds a
    // newline followed by "ABC…": replacing it raw would leave `\[REDACTED]`, invalid JSON.
    const r = redactor('nABCDEFGH12345');
    const parser = redactingParser(createClaudeCodeParser(), (text) => r.text(text));
    const [event] = parser.line(toolResultLine('first line\nABCDEFGH12345'), 'stdout');
    expect(event).toEqual({
      type: 'agent.tool_result',
      id: 'toolu_1',
      ok: true,
      output: 'first line\nABCDEFGH12345',
    });
  });
});
