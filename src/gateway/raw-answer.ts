/**
 * An HTTP answer written by hand on a socket the HTTP server gave up (CONNECT, upgrades):
 * the gateway's refusal, then the connection ends.
 */
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';

/** How long a refused client may take to close before its socket is destroyed. */
const LINGER_MS = 1000;

/** Writes `answer` (a status and a JSON body) and closes the socket. */
export function refuseOnSocket(socket: Duplex, answer: { status: number; body: string }): void {
  socket.on('error', () => {});
  const head = [
    `HTTP/1.1 ${answer.status} ${STATUS_CODES[answer.status] ?? ''}`,
    'content-type: application/json',
    `content-length: ${Buffer.byteLength(answer.body)}`,
    'connection: close',
  ];
  socket.end(`${head.join('\r\n')}\r\n\r\n${answer.body}`);
  // end() sends FIN; a client that keeps its side open is not kept waiting for.
  setTimeout(() => socket.destroy(), LINGER_MS).unref();
}
