/**
 * Splits a byte stream into UTF-8 lines. A line longer than `maxLineBytes` is cut there and
 * the rest of it dropped, so a runaway process cannot make the worker buffer without bound.
 */
export class LineSplitter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private dropping = false;

  constructor(
    private readonly onLine: (line: string) => void,
    private readonly maxLineBytes = 8 * 1024 * 1024,
  ) {}

  push(chunk: Buffer): void {
    let start = 0;
    for (
      let newline = chunk.indexOf(10, start);
      newline !== -1;
      newline = chunk.indexOf(10, start)
    ) {
      if (this.pendingBytes === 0 && !this.dropping && newline - start <= this.maxLineBytes) {
        // The common case, a whole line inside one chunk: decoded in place, no copy.
        const end = newline > start && chunk[newline - 1] === 13 ? newline - 1 : newline;
        this.onLine(chunk.toString('utf8', start, end));
      } else {
        this.append(chunk.subarray(start, newline));
        this.emit();
      }
      start = newline + 1;
    }
    this.append(chunk.subarray(start));
  }

  /** Emits what is left after the stream ended. */
  end(): void {
    if (this.pendingBytes > 0 || this.dropping) this.emit();
  }

  private append(part: Buffer): void {
    if (this.dropping || part.length === 0) return;
    const room = this.maxLineBytes - this.pendingBytes;
    if (part.length > room) {
      this.pending.push(part.subarray(0, room));
      this.pendingBytes += room;
      this.dropping = true;
      return;
    }
    this.pending.push(part);
    this.pendingBytes += part.length;
  }

  private emit(): void {
    let line = Buffer.concat(this.pending).toString('utf8');
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (this.dropping) line += ' …[line cut]';
    this.pending = [];
    this.pendingBytes = 0;
    this.dropping = false;
    this.onLine(line);
  }
}
