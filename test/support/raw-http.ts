/**
 * One HTTP/1.1 exchange written byte for byte on a `node:net` socket: fetch normalises URLs
 * (dot segments, backslashes, absolute form) and cannot send CONNECT or an upgrade, which are
 * exactly what the gateway's attack tests need to send.
 */
import { connect } from 'node:net';

export interface RawAnswer {
  /** The status of the answer, or 0 when the connection ended without one. */
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * Sends `head` (the request line and headers, without the blank line) and `body` to
 * 127.0.0.1:`port`, with `Connection: close`; resolves with the answer once the server has
 * closed the connection or `timeoutMs` has passed.
 */
export function rawRequest(
  port: number,
  head: string,
  body = '',
  timeoutMs = 5000,
): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const parts: Buffer[] = [];
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(parseAnswer(Buffer.concat(parts).toString('latin1')));
    };
    const timer = setTimeout(done, timeoutMs);
    socket.on('data', (chunk: Buffer) => parts.push(chunk));
    socket.on('close', done);
    socket.on('error', () => {});
    const length = body ? `\r\ncontent-length: ${Buffer.byteLength(body)}` : '';
    socket.write(`${head}\r\nconnection: close${length}\r\n\r\n${body}`);
  });
}

function parseAnswer(text: string): RawAnswer {
  const end = text.indexOf('\r\n\r\n');
  const [statusLine = '', ...lines] = (end < 0 ? text : text.slice(0, end)).split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? 0);
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  let body = end < 0 ? '' : text.slice(end + 4);
  if (headers['transfer-encoding'] === 'chunked') body = unchunk(body);
  return { status, headers, body };
}

function unchunk(text: string): string {
  let out = '';
  let rest = text;
  for (;;) {
    const eol = rest.indexOf('\r\n');
    const size = Number.parseInt(rest.slice(0, eol), 16);
    if (eol < 0 || !(size > 0)) return out;
    out += rest.slice(eol + 2, eol + 2 + size);
    rest = rest.slice(eol + 2 + size + 2);
  }
}
