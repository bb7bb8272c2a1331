/**
 * Caps on event payloads (platform-api.md: tool inputs and outputs are truncated to 4 KiB).
 * Limits count UTF-8 bytes, since that is what travels and is stored.
 */
import { EVENT_PAYLOAD_LIMIT } from '../events.js';

/** Room kept for the marker so a truncated string still fits the limit. */
const MARKER_RESERVE = 48;

/** Set while a parser runs inside {@link redactingCuts}. */
let cutRedactor: ((text: string) => string) | undefined;

/**
 * Runs `fn` (a parser's synchronous work) so that every value {@link truncateForEvent} is
 * about to cut is redacted first. Cutting an unredacted text could keep the first part of a
 * secret that straddles the cut, which no later redaction recognizes; whole secrets in
 * values that are not cut are left to the event stream's redaction, so each byte of agent
 * output is searched once. Synchronous on purpose: no other job's parser can run meanwhile.
 */
export function redactingCuts<T>(redact: (text: string) => string, fn: () => T): T {
  const previous = cutRedactor;
  cutRedactor = redact;
  try {
    return fn();
  } finally {
    cutRedactor = previous;
  }
}

/**
 * Returns `value` unchanged when it fits `limit` UTF-8 bytes, else its beginning followed by
 * a marker saying how long the original was; the result never exceeds `limit` bytes and
 * never splits a character. Inside {@link redactingCuts} the value is redacted before it
 * is cut.
 */
export function truncateForEvent(value: string, limit = EVENT_PAYLOAD_LIMIT): string {
  let bytes = Buffer.byteLength(value, 'utf8');
  if (bytes <= limit) return value;
  if (cutRedactor) {
    value = cutRedactor(value);
    bytes = Buffer.byteLength(value, 'utf8');
    if (bytes <= limit) return value;
  }
  const marker = `… [truncated, ${bytes} bytes in all]`;
  const keep = Math.max(0, limit - Math.max(MARKER_RESERVE, Buffer.byteLength(marker, 'utf8')));
  const buf = Buffer.from(value, 'utf8');
  let end = keep;
  // Step back over UTF-8 continuation bytes (10xxxxxx) to cut on a character boundary.
  while (end > 0 && ((buf[end] ?? 0) & 0xc0) === 0x80) end--;
  return buf.subarray(0, end).toString('utf8') + marker;
}

/**
 * Returns `value` itself when its JSON serialization fits {@link EVENT_PAYLOAD_LIMIT} bytes,
 * so small tool inputs stay structured; otherwise the serialization truncated by
 * {@link truncateForEvent}. Values JSON cannot represent (undefined, functions) become null.
 */
export function truncateJsonForEvent(value: unknown): unknown {
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch {
    // Circular or BigInt-bearing values cannot travel as JSON: describe them instead.
    return truncateForEvent(String(value));
  }
  if (json === undefined) return null;
  if (Buffer.byteLength(json, 'utf8') <= EVENT_PAYLOAD_LIMIT) return value;
  return truncateForEvent(json);
}
