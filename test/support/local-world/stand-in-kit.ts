import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Scripted faults per route, shared by the SCM stand-ins: each queued fault answers the next
 * `times` requests on its route (`'always'` until cleared), in the order they were queued.
 */
export class FaultQueues<Route extends string, Fault> {
  private readonly queues = new Map<Route, Array<{ fault: Fault; left: number }>>();

  add(route: Route, fault: Fault, times: number | 'always' = 1): void {
    const queue = this.queues.get(route) ?? [];
    queue.push({ fault, left: times === 'always' ? Number.POSITIVE_INFINITY : times });
    this.queues.set(route, queue);
  }

  /** The fault for this request on `route`, if one is queued. */
  take(route: Route): Fault | undefined {
    const queue = this.queues.get(route);
    const next = queue?.[0];
    if (!queue || !next) return undefined;
    next.left -= 1;
    if (next.left <= 0) queue.shift();
    return next.fault;
  }

  clear(): void {
    this.queues.clear();
  }
}

/**
 * An HTTP server on 127.0.0.1 (random port) for a stand-in: `handle` answers each request, and
 * an exception it throws is answered by `onError` (or ends the connection when the answer had
 * started). `close()` is idempotent and does not wait for hanging requests or keep-alive
 * sockets: it ends them.
 */
export async function listenOnLoopback(
  handle: (req: IncomingMessage, res: ServerResponse) => Promise<void>,
  onError: (res: ServerResponse, message: string) => void,
): Promise<{ origin: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (res.headersSent) res.destroy();
      else onError(res, error instanceof Error ? error.message : String(error));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  let closed: Promise<void> | undefined;
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () => {
      closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closed;
    },
  };
}
