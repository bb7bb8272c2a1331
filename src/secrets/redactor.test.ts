import { describe, expect, it } from 'vitest';
import { REDACTED, Redactor } from './redactor.js';

describe('Redactor', () => {
  const redactor = new Redactor();
  redactor.add('ghs_secretvalue123');
  redactor.add('ab'); // too short to redact without shredding text

  it('replaces values, their URL encoding and their Basic-auth form', () => {
    const basic = Buffer.from('x-access-token:ghs_secretvalue123').toString('base64');
    expect(redactor.text(`token ghs_secretvalue123 and ${basic}`)).toBe(
      `token ${REDACTED} and ${REDACTED}`,
    );
    expect(redactor.text('about ab')).toBe('about ab');
  });

  it('replaces the JSON-escaped form too, so a raw JSON line stays valid JSON', () => {
    const tricky = new Redactor();
    tricky.add('pw"with\\backslash');
    const line = JSON.stringify({ output: 'the password is pw"with\\backslash, keep it' });
    const redacted = tricky.text(line);
    expect(JSON.parse(redacted)).toEqual({ output: `the password is ${REDACTED}, keep it` });
  });

  it('walks objects, arrays and errors, keys included', () => {
    const error = new Error('failed with ghs_secretvalue123');
    const value = redactor.value({
      list: ['ghs_secretvalue123'],
      nested: { ghs_secretvalue123: 1 },
      error,
      n: 3,
    });
    expect(JSON.stringify(value)).not.toContain('ghs_secretvalue123');
    expect(value.n).toBe(3);
  });

  it('survives cycles', () => {
    const cyclic: Record<string, unknown> = { a: 'ghs_secretvalue123' };
    cyclic.self = cyclic;
    expect(redactor.value(cyclic)).toEqual({ a: REDACTED, self: '[Circular]' });
  });
});
