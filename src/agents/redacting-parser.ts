import type { AgentOutputParser } from './types.js';

/**
 * Wraps a parser so that it only ever sees redacted lines. Parsers cut tool inputs and
 * outputs to 4 KiB; redacting their events afterwards would miss a secret that straddles the
 * cut, leaving its first part in the event. Redacting the raw line first removes it whole.
 *
 * `redact` is expected to know the JSON-escaped form of each secret too (the Redactor
 * does), so a JSON line stays JSON: `[REDACTED]` needs no escaping.
 */
export function redactingParser(
  parser: AgentOutputParser,
  redact: (text: string) => string,
): AgentOutputParser {
  return {
    line(text, stream) {
      return parser.line(redactLine(text, redact), stream);
    },
    end(exit) {
      return parser.end(exit);
    },
  };
}

/**
 * The line with every secret replaced. Should a replacement break the JSON (a secret's raw
 * form matched across an escape sequence, such as `n…` after a `\`), the line is decoded,
 * its strings redacted one by one and encoded again, so the parser still gets the structure.
 */
function redactLine(text: string, redact: (text: string) => string): string {
  const redacted = redact(text);
  if (redacted === text || isJson(redacted)) return redacted;
  let decoded: unknown;
  try {
    decoded = JSON.parse(text);
  } catch {
    return redacted; // not JSON to begin with: plain redaction is all there is
  }
  return JSON.stringify(redactStrings(decoded, redact));
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** A copy of a parsed JSON value with every string redacted, keys included. */
function redactStrings(value: unknown, redact: (text: string) => string): unknown {
  if (typeof value === 'string') return redact(value);
  if (Array.isArray(value)) return value.map((item) => redactStrings(item, redact));
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => [redact(key), redactStrings(item, redact)]),
  );
}
