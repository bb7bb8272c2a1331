import { expect } from 'vitest';
import type { AgentEvent } from '../events.js';
import type { AgentExit, AgentOutcome, AgentOutputParser } from './types.js';

/** Feeds every line on both streams, then ends the run: nothing of it may throw. */
export function expectNeverThrows(parser: AgentOutputParser, lines: string[], exitCode = 0): void {
  for (const line of lines) {
    expect(() => parser.line(line, 'stdout')).not.toThrow();
    expect(() => parser.line(line, 'stderr')).not.toThrow();
  }
  expect(() => parser.end({ code: exitCode, signal: null })).not.toThrow();
}

/** Feeds a run's stdout, then its stderr, and ends it: every event and the outcome. */
export function runParser(
  parser: AgentOutputParser,
  stdout: string[],
  stderr: string[],
  exit: AgentExit,
): { events: AgentEvent[]; outcome: AgentOutcome } {
  const events = [
    ...stdout.flatMap((l) => parser.line(l, 'stdout')),
    ...stderr.flatMap((l) => parser.line(l, 'stderr')),
  ];
  const end = parser.end(exit);
  return { events: [...events, ...end.events], outcome: end.outcome };
}
