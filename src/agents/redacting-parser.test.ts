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

  it('no prefix of the secret survives a cut, whatever the offset', () => {
    const r = redactor(SECRET);
    const parser = redactingParser(createClaudeCodeParser(), (text) => r.text(text));
    const events = straddling.flatMap((output) => parser.line(toolResultLine(output), 'stdout'));
    expect(events).toHaveLength(straddling.length);
    expect(events.every((e) => e.type === 'agent.tool_result')).toBe(true);
    // Not even before the event stream's own redaction: the cut came after the redaction.
    expect(JSON.stringify(events)).not.toContain(PREFIX);
    // The line stayed JSON: the parser read the tool result, with the secret replaced.
    const first = events[0];
    expect(first?.type === 'agent.tool_result' && first.output).toContain('a[REDACTED]b');
  });

  it("with the event stream's redaction, catches a secret with quotes and backslashes, cut or not", () => {
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
    // What EventStream does with every event before anyone sees it.
    const emitted = JSON.stringify(r.value(events));
    expect(emitted).not.toContain('pw-');
    expect(emitted).not.toContain(JSON.stringify(tricky).slice(1, 9));
  });

  it('a failure reason cut across a secret keeps no part of it', () => {
    const r = redactor(SECRET);
    const parser = redactingParser(createClaudeCodeParser(), (text) => r.text(text));
    // The excerpt of the last stderr line is cut near 450 bytes: across the secret.
    parser.line(`Error: ${'e'.repeat(430)}${SECRET}${'x'.repeat(200)}`, 'stderr');
    const { outcome } = parser.end({ code: 1, signal: null });
    expect(outcome.failureReason).toMatch(/e\[RED/);
    expect(outcome.failureReason).not.toContain(PREFIX);
    // Without the wrapper the same cut keeps the secret's first characters.
    const bare = createClaudeCodeParser();
    bare.line(`Error: ${'e'.repeat(430)}${SECRET}${'x'.repeat(200)}`, 'stderr');
    expect(bare.end({ code: 1, signal: null }).outcome.failureReason).toContain(PREFIX);
  });

  it('reads the decoded text: an escape sequence that looks like a secret is not one', () => {
    // The secret "nABC…" appears in the raw line inside the escape `\nABC…`, which decodes
    // to a newline followed by "ABC…": the text holds no secret.
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
