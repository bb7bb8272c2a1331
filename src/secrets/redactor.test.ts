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

describe('the base64 forms of a secret', () => {
  it('are redacted standalone and inside a longer base64 text, at every byte alignment', () => {
    const secret = 'sk-ant-planted-0123456789abcdef';
    const redactor = new Redactor();
    redactor.add(secret);
    expect(redactor.text(Buffer.from(secret).toString('base64'))).not.toContain(
      Buffer.from(secret).toString('base64').slice(0, 12),
    );
    for (const prefix of ['', 'a', 'ab', 'abc', 'header: ']) {
      const blob = Buffer.from(`${prefix}${secret} and the rest of a file`).toString('base64');
      const redacted = redactor.text(blob);
      expect(redacted, prefix).toContain('[REDACTED]');
      // What is left cannot be decoded back to the secret's middle.
      const core = Buffer.from(secret.slice(6, 24)).toString('base64').slice(2, 14);
      expect(redacted.includes(core), prefix).toBe(false);
    }
  });
});
