import { redactingCuts } from './truncate.js';
import type { AgentOutputParser } from './types.js';

/**
 * Wraps a parser so that nothing it cuts can keep part of a secret. Parsers cut tool inputs
 * and outputs to 4 KiB and failure reasons to a few hundred characters; a secret straddling
 * such a cut would leave its first part behind, which no later redaction recognizes. Inside
 * this wrapper every value is redacted before it is cut (see `redactingCuts`).
 *
 * Whole secrets in values that are not cut — and in texts a parser joins from several lines —
 * are removed by the event stream, which redacts every event it numbers (and the Result is
 * redacted as a whole): each byte of agent output is searched once, not twice.
 */
export function redactingParser(
  parser: AgentOutputParser,
  redact: (text: string) => string,
): AgentOutputParser {
  return {
    line(text, stream) {
      return redactingCuts(redact, () => parser.line(text, stream));
    },
    end(exit) {
      return redactingCuts(redact, () => parser.end(exit));
    },
  };
}
