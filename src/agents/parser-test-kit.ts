import { expect } from 'vitest';
import type { AgentOutputParser } from './types.js';

/** Feeds every line on both streams, then ends the run: nothing of it may throw. */
export function expectNeverThrows(parser: AgentOutputParser, lines: string[], exitCode = 0): void {
  for (const line of lines) {
    expect(() => parser.line(line, 'stdout')).not.toThrow();
    expect(() => parser.line(line, 'stderr')).not.toThrow();
  }
  expect(() => parser.end({ code: exitCode, signal: null })).not.toThrow();
}
