import { describe, expect, it } from 'vitest';
import { jsonLinesParser, type RunState, recordError } from './parsing.js';

describe('jsonLinesParser: what a run keeps', () => {
  it('keeps only the newest errors, however many the CLI prints', () => {
    const run: RunState = { errors: [], credentialsRejected: false };
    for (let i = 0; i < 10_000; i++) recordError(run, `error ${i}`);
    expect(run.errors).toEqual([
      'error 9995',
      'error 9996',
      'error 9997',
      'error 9998',
      'error 9999',
    ]);
  });

  it('a long run of error lines ends with the newest as the reason, and bounded state', () => {
    let seen: RunState | undefined;
    const parser = jsonLinesParser({
      displayName: 'Demo',
      json(line, _raw, run) {
        seen = run;
        if (typeof line.error === 'string') recordError(run, line.error);
        return [];
      },
    });
    for (let i = 0; i < 50_000; i++) parser.line(JSON.stringify({ error: `boom ${i}` }), 'stdout');
    const { outcome } = parser.end({ code: 1, signal: null });
    expect(seen?.errors.length).toBeLessThanOrEqual(5);
    expect(outcome.failureReason).toBe(
      'Demo exited with code 1 without reporting a result: boom 49999',
    );
  });
});
