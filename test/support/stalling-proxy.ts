import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * An HTTP proxy in front of the local git server that forwards every request, except those
 * `stall` picks: those are accepted and never answered, as a stuck server or a dead network
 * path would. Everything else reaches the real server, token check included.
 */
export async function startStallingProxy(
  target: string,
  stall: (method: string, url: string) => boolean,
): Promise<{ url: string; stalled: number; close(): Promise<void> }> {
  const upstream = new URL(target);
  const state = { stalled: 0 };
  const server = createServer((req, res) => {
    if (stall(req.method ?? '', req.url ?? '')) {
      state.stalled += 1;
      return; // never answered
    }
    const forward = request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: upstream.host },
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forward.on('error', () => res.destroy());
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get stalled() {
      return state.stalled;
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
