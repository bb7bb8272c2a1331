/** Text every secret value is replaced with (platform-api.md). */
export const REDACTED = '[REDACTED]';

/** Values shorter than this are not redacted: they would shred ordinary text. */
const MIN_SECRET_LENGTH = 4;

/**
 * Replaces known secret values, and the encodings a secret travels in (Basic auth base64,
 * URL-encoding, JSON string escaping), in strings and in any JSON-like value. One instance per job; secrets are
 * added as they are resolved.
 */
export class Redactor {
  private readonly needles = new Set<string>();
  /** Each secret value by the name it is known under (for messages that name it). */
  private readonly names = new Map<string, string>();
  private pattern: RegExp | null = null;
  /** The shortest needle: a shorter string cannot hold one (most keys and ids are). */
  private shortest = Number.POSITIVE_INFINITY;

  /** Registers a secret value; `name` is how messages refer to it (never the value). */
  add(value: string | undefined, name = 'a secret'): void {
    if (!value || value.length < MIN_SECRET_LENGTH) return;
    if (!this.names.has(value)) this.names.set(value, name);
    for (const form of secretForms(value)) this.needles.add(form);
    const sorted = [...this.needles].sort((a, b) => b.length - a.length);
    this.pattern = new RegExp(sorted.map(escapeRegExp).join('|'), 'g');
    this.shortest = sorted.at(-1)?.length ?? Number.POSITIVE_INFINITY;
  }

  /** Every secret registered, with its name: what the push scan looks for. */
  secrets(): Array<{ name: string; value: string }> {
    return [...this.names].map(([value, name]) => ({ name, value }));
  }

  get size(): number {
    return this.needles.size;
  }

  text(value: string): string {
    return this.pattern && value.length >= this.shortest
      ? value.replace(this.pattern, REDACTED)
      : value;
  }

  /** Deep copy of a JSON-like value with every string redacted (keys too). */
  value<T>(value: T): T {
    return redactDeep(value, (s) => this.text(s), new WeakSet()) as T;
  }
}

/**
 * The forms a secret value travels in and is recognised by: raw, URL-encoded, base64 (also
 * inside a longer encoded text), JSON-escaped and as HTTP Basic credentials.
 */
export function secretForms(value: string): string[] {
  const forms = [value, encodeURIComponent(value), ...base64Forms(value)];
  // Inside a JSON string (an agent's raw output line) a value with quotes, backslashes or
  // control characters appears escaped; catching that form lets a raw line be redacted
  // before it is parsed and cut, and keeps it valid JSON ([REDACTED] needs no escaping).
  const jsonEscaped = JSON.stringify(value).slice(1, -1);
  if (jsonEscaped !== value) forms.push(jsonEscaped);
  // git and HTTP clients carry tokens as Basic credentials.
  for (const user of ['x-access-token', 'oauth2', 'git', 'x']) {
    forms.push(Buffer.from(`${user}:${value}`).toString('base64'));
  }
  return forms.filter((form) => form.length >= MIN_SECRET_LENGTH);
}

/**
 * The value's base64 (and base64url), standalone and inside a longer encoded text: for each
 * of the three byte alignments it can have there, the characters that depend on its bytes
 * alone. Shorter cores than 8 characters would match ordinary text by chance.
 */
function base64Forms(value: string): string[] {
  const bytes = Buffer.from(value);
  const forms = [bytes.toString('base64'), bytes.toString('base64url')];
  for (let shift = 0; shift < 3; shift++) {
    const total = shift + bytes.length;
    const encoded = Buffer.concat([Buffer.alloc(shift), bytes]).toString('base64');
    // Characters of complete 3-byte groups only, and none that mix in the bytes before.
    const core = encoded.slice(shift === 0 ? 0 : shift + 1, Math.floor(total / 3) * 4);
    if (core.length >= 8) forms.push(core, core.replace(/\+/g, '-').replace(/\//g, '_'));
  }
  return forms;
}

function redactDeep(value: unknown, text: (s: string) => string, seen: WeakSet<object>): unknown {
  if (typeof value === 'string') return text(value);
  if (value === null || typeof value !== 'object') return value;
  if (seen.has(value)) return '[Circular]';
  seen.add(value);
  if (Array.isArray(value)) return value.map((item) => redactDeep(item, text, seen));
  if (value instanceof Error) {
    return { name: value.name, message: text(value.message), stack: text(value.stack ?? '') };
  }
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) out[text(key)] = redactDeep(item, text, seen);
  return out;
}

function escapeRegExp(value: string): string {
  return value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
