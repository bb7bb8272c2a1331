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
    let start = 0;
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i] as number;
      if (c === LF && this.afterCr) {
        this.afterCr = false;
        start = i + 1;
        continue;
      }
      this.afterCr = c === CR;
      if (c === CR || c === LF) {
        this.feed(chunk, start, i);
        this.endLine();
        start = i + 1;
        continue;
      }
      if (this.mode === 'head') {
        this.head += String.fromCharCode(c);
        start = i + 1;
        if (this.head === FIELD) {
          this.mode = 'data';
          if (this.json) this.json.write(NEWLINE);
          else this.json = new JsonTap(this.onScalar);
        } else if (!FIELD.startsWith(this.head)) {
          this.mode = 'skip';
        }
      }
    }
    this.feed(chunk, start, chunk.length);
  }

  end(): void {
    this.endEvent();
  }

  private feed(chunk: Uint8Array, from: number, to: number): void {
    if (this.mode === 'data' && to > from) this.json?.write(chunk.subarray(from, to));
  }

  private endLine(): void {
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
