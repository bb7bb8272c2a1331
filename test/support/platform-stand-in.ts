/**
 * A local stand-in for the platform's callback API (platform-api.md): the four calls under
 * `/jobs/{jobId}/…`, token-checked, every request recorded, with scriptable faults (error
 * answers, delays, hangs), cancellation and outages, on 127.0.0.1.
 */
import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** The four calls of platform-api.md. */
export type PlatformRoute = 'clanker' | 'secrets' | 'events' | 'result';

export const PLATFORM_ROUTES: readonly PlatformRoute[] = ['clanker', 'secrets', 'events', 'result'];

/** Options for {@link startPlatformStandIn}. */
export interface PlatformStandInOptions {
  /** The only token accepted, as `Authorization: Bearer <token>`. */
  token: string;
  /** When given, only this job's paths exist; other jobs are 404. Default: any job. */
  jobId?: string;
}

/** One request as received. */
export interface RecordedRequest {
  method: string;
  /** The request target as sent, e.g. `/jobs/job_1/events`. */
  path: string;
  /** The call, when the path is one of the four. */
  route: PlatformRoute | undefined;
  jobId: string | undefined;
  /** Request headers, lower-case, without `authorization` (see `authorized`). */
  headers: Record<string, string | string[] | undefined>;
  /** Whether `Authorization` carried exactly `Bearer <token>`. */
  authorized: boolean;
  /** The parsed JSON body; the raw text when it is not JSON; `undefined` when empty. */
  body: unknown;
  /** When it arrived (`Date.now()`). */
  at: number;
  /** The status answered, once answered (`undefined` while delayed or hanging). */
  status?: number;
}

/**
 * A scripted answer: `status`, a JSON `body` (default `{ error: … }`) and headers. Usually an
 * error; a 2xx fault answers a malformed success (`fail('secrets', { status: 200, body: {} })`).
 * Events and Results of a faulted request are not recorded as accepted.
 */
export interface PlatformFault {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/** An event as the platform receives it (the fields the stand-in reads; the rest kept). */
export type ReceivedEvent = { seq: number; ts: string; type: string } & Record<string, unknown>;

/** The clanker answered by default. */
export const DEFAULT_CLANKER = { id: 'clk_1', name: 'stand-in-bot', agent: 'claude-code' };

/** A running platform stand-in, returned by {@link startPlatformStandIn}. */
export class PlatformStandIn {
  /** `http://127.0.0.1:PORT`: the `callback.url` to give the worker. */
  readonly url: string;
  readonly port: number;
  /** Every request received, in arrival order (bad tokens and unknown paths included). */
  readonly requests: RecordedRequest[] = [];
  /**
   * Every event of every `/events` request the stand-in accepted (answered 2xx), in arrival
   * order, duplicates kept. A request answered with a fault is in `requests` only. A delayed
   * request counts as accepted when it is answered, also when the client has left by then
   * (as a real platform that processed it would).
   */
  readonly events: ReceivedEvent[] = [];
  /** Every Result body accepted (answered 2xx), in arrival order, duplicates kept. */
  readonly results: unknown[] = [];
  /** What `GET /clanker` answers: an object (200), or a status (answered with an error body). */
  clanker: object | number = DEFAULT_CLANKER;
  /** Secret values by key; `POST /secrets` answers those of the requested keys that exist. */
  secrets: Record<string, string> = {};
  /** Once this many events were accepted, `/events` answers carry `"cancel": true`. */
  cancelAfterEvents: number | undefined;

  private cancelRequested = false;
  private readonly faults = new Map<PlatformRoute, Array<{ fault: PlatformFault; left: number }>>();
  private readonly delays = new Map<PlatformRoute, number>();
  private readonly hanging = new Set<PlatformRoute>();
  private readonly sockets = new Set<Socket>();
  private current = 0;
  private highest = 0;
  private readonly currentBy = new Map<PlatformRoute, number>();
  private readonly highestBy = new Map<PlatformRoute, number>();
  private listening = true;

  constructor(
    private readonly server: Server,
    private readonly opts: PlatformStandInOptions,
  ) {
    this.port = (server.address() as AddressInfo).port;
    this.url = `http://127.0.0.1:${this.port}`;
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    server.on('request', (req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) answer(res, 500, { error: String(error) });
      });
    });
  }

  /** Requests being handled right now (received, not yet answered or abandoned). */
  get inFlight(): number {
    return this.current;
  }

  /** The most requests that were ever handled at the same time. */
  get maxInFlight(): number {
    return this.highest;
  }

  /** The most requests on `route` that were ever handled at the same time. */
  maxInFlightOn(route: PlatformRoute): number {
    return this.highestBy.get(route) ?? 0;
  }

  /** Whether `/events` answers carry `"cancel": true` now. */
  get cancelling(): boolean {
    return (
      this.cancelRequested ||
      (this.cancelAfterEvents !== undefined && this.events.length >= this.cancelAfterEvents)
    );
  }

  /** From now on, every `/events` answer carries `"cancel": true`. */
  requestCancel(): void {
    this.cancelRequested = true;
  }

  /**
   * Answers the next `times` requests on `route` (default 1; `'always'` until
   * {@link clearFaults}) with `fault`, after the faults already queued there. Bad tokens are
   * still answered 401 first.
   */
  fail(route: PlatformRoute, fault: PlatformFault, times: number | 'always' = 1): void {
    const queue = this.faults.get(route) ?? [];
    queue.push({ fault, left: times === 'always' ? Number.POSITIVE_INFINITY : times });
    this.faults.set(route, queue);
  }

  /** Holds every answer on `route` for `ms` before it is sent (0: no delay). */
  delay(route: PlatformRoute, ms: number): void {
    if (ms > 0) this.delays.set(route, ms);
    else this.delays.delete(route);
  }

  /** Reads every request on `route` and never answers, until {@link clearFaults}. */
  hang(route: PlatformRoute): void {
    this.hanging.add(route);
  }

  /** Drops every fault, delay and hang; requests already hanging stay so. */
  clearFaults(): void {
    this.faults.clear();
    this.delays.clear();
    this.hanging.clear();
  }

  /** Events received per `seq` (accepted ones): how many times each was delivered. */
  deliveriesBySeq(): Map<number, number> {
    const counts = new Map<number, number>();
    for (const event of this.events) counts.set(event.seq, (counts.get(event.seq) ?? 0) + 1);
    return counts;
  }

  /** Stops accepting: the listening socket is closed and every connection destroyed. */
  async down(): Promise<void> {
    if (!this.listening) return;
    this.listening = false;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }

  /** Listens again on the same port after {@link down}. */
  async up(): Promise<void> {
    if (this.listening) return;
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.port, '127.0.0.1', () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.listening = true;
  }

  /** Stops listening and destroys every connection (hanging requests included). */
  async close(): Promise<void> {
    await this.down();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = req.url ?? '/';
    const match = /^\/jobs\/([^/?#]+)\/(clanker|secrets|events|result)(?:\?.*)?$/.exec(path);
    const route = match?.[2] as PlatformRoute | undefined;
    const jobId = match?.[1] === undefined ? undefined : decodeURIComponent(match[1]);
    const { authorization, ...headers } = req.headers;
    const record: RecordedRequest = {
      method: req.method ?? 'GET',
      path,
      route,
      jobId,
      headers,
      authorized: this.authorized(authorization),
      body: undefined,
      at: Date.now(),
    };
    this.requests.push(record);
    this.enter(route);
    let left = false;
    res.on('close', () => {
      if (left) return;
      left = true;
      this.leave(route);
    });
    const text = await readBody(req);
    record.body = parseBody(text);
    const reply = (status: number, body: unknown, extra?: Record<string, string>) => {
      record.status = status;
      answer(res, status, body, extra);
    };

    if (!record.authorized) return reply(401, { error: 'bad or missing bearer token' });
    if (!route || (this.opts.jobId !== undefined && jobId !== this.opts.jobId)) {
      return reply(404, { error: `no such resource: ${path}` });
    }
    const method = route === 'clanker' ? 'GET' : 'POST';
    if (record.method !== method) return reply(405, { error: `${route} takes ${method}` });

    if (this.hanging.has(route)) return; // read, never answered
    const delay = this.delays.get(route);
    if (delay) await new Promise((resolve) => setTimeout(resolve, delay));
    const queue = this.faults.get(route);
    const next = queue?.[0];
    if (queue && next) {
      next.left -= 1;
      if (next.left <= 0) queue.shift();
      const { status, body, headers: extra } = next.fault;
      return reply(status, body ?? { error: `scripted fault: HTTP ${status}` }, extra);
    }

    const body = record.body as Record<string, unknown> | undefined;
    switch (route) {
      case 'clanker':
        if (typeof this.clanker === 'number') {
          return reply(this.clanker, { error: `clanker answered with ${this.clanker}` });
        }
        return reply(200, this.clanker);
      case 'secrets': {
        const keys = body?.keys;
        if (!Array.isArray(keys) || !keys.every((key) => typeof key === 'string')) {
          return reply(400, { error: 'keys must be an array of strings' });
        }
        const secrets: Record<string, string> = {};
        for (const key of keys) {
          if (Object.hasOwn(this.secrets, key)) secrets[key] = this.secrets[key] as string;
        }
        return reply(200, { secrets });
      }
      case 'events': {
        const events = body?.events;
        if (!Array.isArray(events)) return reply(400, { error: 'events must be an array' });
        for (const event of events) this.events.push(event as ReceivedEvent);
        return reply(200, this.cancelling ? { cancel: true } : {});
      }
      case 'result':
        if (!body || typeof body !== 'object' || Array.isArray(body)) {
          return reply(400, { error: 'the Result must be a JSON object' });
        }
        this.results.push(body);
        return reply(200, {});
    }
  }

  private authorized(header: string | undefined): boolean {
    const expected = Buffer.from(`Bearer ${this.opts.token}`);
    const given = Buffer.from(header ?? '');
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  private enter(route: PlatformRoute | undefined): void {
    this.current += 1;
    this.highest = Math.max(this.highest, this.current);
    if (!route) return;
    const now = (this.currentBy.get(route) ?? 0) + 1;
    this.currentBy.set(route, now);
    this.highestBy.set(route, Math.max(this.highestBy.get(route) ?? 0, now));
  }

  private leave(route: PlatformRoute | undefined): void {
    this.current -= 1;
    if (route) this.currentBy.set(route, (this.currentBy.get(route) ?? 1) - 1);
  }
}

/** Starts a platform stand-in on 127.0.0.1, on a random port. */
export async function startPlatformStandIn(opts: PlatformStandInOptions): Promise<PlatformStandIn> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return new PlatformStandIn(server, opts);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of req) chunks.push(chunk as Buffer);
  } catch {
    // the client left mid-body: what arrived is kept
  }
  return Buffer.concat(chunks).toString('utf8');
}

function parseBody(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function answer(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent || res.destroyed) {
    if (!res.writableEnded && !res.destroyed) res.end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}
