/**
 * An incremental JSON scanner for metering: it is fed a document in arbitrary chunks and
 * reports every scalar value with its path (`usage.input_tokens`, arrays as `[]`), keeping
 * nothing of the document but the path and the scalar being read. String values longer than
 * a few bytes are skipped, not kept: the tap only ever needs keys and numbers.
 *
 * It works on bytes: every byte of a multi-byte UTF-8 character is ≥ 0x80 and can never be
 * taken for JSON syntax. Malformed input does not throw; the tap then simply finds nothing.
 */

export type ScalarHandler = (path: string, value: number | string | boolean | null) => void;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
/** Longest key or string value kept (longer ones are cut; they are never usage fields). */
const KEEP = 64;

interface Frame {
  /** True for an object, false for an array. */
  object: boolean;
  key: string;
  awaitingKey: boolean;
}

export class JsonTap {
  private readonly stack: Frame[] = [];
  private inString = false;
  private stringIsKey = false;
  private escape = false;
  private text = '';
  private inScalar = false;

  constructor(private readonly onScalar: ScalarHandler) {}

  write(chunk: Uint8Array): void {
    let i = 0;
    const n = chunk.length;
    while (i < n) {
      if (this.inString) {
        i = this.readString(chunk, i);
        continue;
      }
      const c = chunk[i] as number;
      if (this.inScalar) {
        if (isScalarByte(c)) {
          if (this.text.length < KEEP) this.text += String.fromCharCode(c);
          i++;
          continue;
        }
        this.finishScalar();
      }
      this.structural(c);
      i++;
    }
  }

  /** Ends the document (a number at the very end of a document is complete only here). */
  end(): void {
    if (this.inScalar) this.finishScalar();
  }

  private readString(chunk: Uint8Array, start: number): number {
    let i = start;
    const n = chunk.length;
    while (i < n) {
      if (this.escape) {
        this.escape = false;
        this.keep(chunk, i, i + 1);
        i++;
        continue;
      }
      // Jump to the next quote or backslash: the bytes between are plain string content.
      const quote = chunk.indexOf(QUOTE, i);
      const backslash = chunk.indexOf(BACKSLASH, i);
      const stop = quote === -1 ? backslash : backslash === -1 ? quote : Math.min(quote, backslash);
      if (stop === -1) {
        this.keep(chunk, i, n);
        return n;
      }
      this.keep(chunk, i, stop);
      if (stop === backslash) {
        this.escape = true;
        i = stop + 1;
        continue;
      }
      this.inString = false;
      if (this.stringIsKey) {
        const top = this.stack[this.stack.length - 1];
        if (top) top.key = this.text;
      } else {
        this.onScalar(this.path(), this.text);
      }
      this.text = '';
      return stop + 1;
    }
    return i;
  }

  /** Keeps the start of a string (up to {@link KEEP} bytes). */
  private keep(chunk: Uint8Array, from: number, to: number): void {
    const room = KEEP - this.text.length;
    if (room <= 0 || to <= from) return;
    const end = Math.min(to, from + room);
    for (let i = from; i < end; i++) this.text += String.fromCharCode(chunk[i] as number);
  }

  private structural(c: number): void {
    const top = this.stack[this.stack.length - 1];
    switch (c) {
      case 0x7b: // {
        this.stack.push({ object: true, key: '', awaitingKey: true });
        return;
      case 0x5b: // [
        this.stack.push({ object: false, key: '', awaitingKey: false });
        return;
      case 0x7d: // }
      case 0x5d: // ]
        this.stack.pop();
        return;
      case 0x3a: // :
        if (top) top.awaitingKey = false;
        return;
      case 0x2c: // ,
        if (top?.object) top.awaitingKey = true;
        return;
      case QUOTE:
        this.inString = true;
        this.stringIsKey = top?.object === true && top.awaitingKey;
        this.text = '';
        return;
      case 0x20:
      case 0x09:
      case 0x0a:
      case 0x0d:
        return;
      default:
        this.inScalar = true;
        this.text = String.fromCharCode(c);
    }
  }

  private finishScalar(): void {
    this.inScalar = false;
    const raw = this.text;
    this.text = '';
    let value: number | boolean | null | string;
    if (raw === 'true') value = true;
    else if (raw === 'false') value = false;
    else if (raw === 'null') value = null;
    else {
      const n = Number(raw);
      value = Number.isFinite(n) ? n : raw;
    }
    this.onScalar(this.path(), value);
  }

  private path(): string {
    let path = '';
    for (const frame of this.stack) {
      const part = frame.object ? frame.key : '[]';
      path = path ? `${path}.${part}` : part;
    }
    return path;
  }
}

/** Bytes that can continue a number or a literal (`true`, `false`, `null`). */
function isScalarByte(c: number): boolean {
  return (
    (c >= 0x30 && c <= 0x39) || // 0-9
    (c >= 0x61 && c <= 0x7a) || // a-z
    (c >= 0x41 && c <= 0x5a) || // A-Z
    c === 0x2b || // +
    c === 0x2d || // -
    c === 0x2e // .
  );
}
