/**
 * An incremental server-sent-events reader for metering: every `data:` line is streamed into
 * a fresh {@link JsonTap} per event, so neither a line nor an event is ever held whole. Only
 * the first few bytes of a line (the field name) are kept, to tell `data:` from the rest.
 */
import { JsonTap, type ScalarHandler } from './json-tap.js';

const CR = 0x0d;
const LF = 0x0a;
const FIELD = 'data:';

export class SseTap {
  private json: JsonTap | undefined;
  /** The start of the current line while its field name is not yet known. */
  private head = '';
  /** What the rest of the current line is: undecided, event data, or ignored. */
  private mode: 'head' | 'data' | 'skip' = 'head';
  private afterCr = false;

  constructor(private readonly onScalar: ScalarHandler) {}

  write(chunk: Uint8Array): void {
    let i = 0;
    const n = chunk.length;
    while (i < n) {
      if (this.afterCr) {
        this.afterCr = false;
        if (chunk[i] === LF) {
          i++;
          continue;
        }
      }
      if (this.mode !== 'head') {
        // The rest of a data (or ignored) line: jump to its end.
        const end = lineEnd(chunk, i);
        this.feed(chunk, i, end === -1 ? n : end);
        if (end === -1) return;
        this.endLine(chunk[end] === CR);
        i = end + 1;
        continue;
      }
      const c = chunk[i] as number;
      i++;
      if (c === CR || c === LF) {
        this.endLine(c === CR);
        continue;
      }
      this.head += String.fromCharCode(c);
      if (this.head === FIELD) {
        this.mode = 'data';
        if (this.json) this.json.write(NEWLINE);
        else this.json = new JsonTap(this.onScalar);
      } else if (!FIELD.startsWith(this.head)) {
        this.mode = 'skip';
      }
    }
  }

  end(): void {
    this.endEvent();
  }

  private feed(chunk: Uint8Array, from: number, to: number): void {
    if (this.mode === 'data' && to > from) this.json?.write(chunk.subarray(from, to));
  }

  private endLine(cr: boolean): void {
    this.afterCr = cr;
    // An empty line dispatches the event.
    if (this.mode === 'head' && this.head === '') this.endEvent();
    this.mode = 'head';
    this.head = '';
  }

  private endEvent(): void {
    this.json?.end();
    this.json = undefined;
  }
}

const NEWLINE = new Uint8Array([LF]);

/** The index of the next CR or LF from `from`, or -1. */
function lineEnd(chunk: Uint8Array, from: number): number {
  const lf = chunk.indexOf(LF, from);
  const cr = chunk.indexOf(CR, from);
  return cr === -1 ? lf : lf === -1 ? cr : Math.min(cr, lf);
}
