/**
 * The per-job model gateway: an HTTP server on 127.0.0.1 (random port) that the agent's CLI
 * uses as its model endpoint with a per-job key. Requests without that key are refused with
 * the provider's own 401; the rest go to the upstream with the real key, and the answers
 * stream back unchanged while a tap reads their token usage. Only model calls go upstream
 * (`routes.ts`), and under a budget only as many at once as `admission.ts` lets through.
 */
import {
  type ClientRequest,
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { pipeline } from 'node:stream';
import { ModelCallQueue } from './admission.js';
import {
  CREDENTIAL_HEADERS,
  carriesJobKey,
  type KeyPlacement,
  newJobKey,
  type Refusal,
  refusal,
  upstreamCredential,
} from './credentials.js';
import { endToEnd, isUpgrade } from './headers.js';
import { proxyFor, upstreamAgent } from './proxy.js';
import { refuseOnSocket } from './raw-answer.js';
import { checkModelCall } from './routes.js';
import { addUsage, type Provider, type Usage, zeroUsage } from './types.js';
import { modelApiOf, modelInPath, UsageMeter } from './usage.js';

export interface GatewayOptions {
  upstream: {
    /**
     * The provider's endpoint or `clanker.baseUrl`. The agent's CLI is given the gateway with
     * the same path (`Gateway.baseUrl`): a request's path must start with it, and goes upstream
     * unchanged.
     */
    baseUrl: string;
    provider: Provider;
    /** The real key: it only ever leaves the worker towards the upstream. */
    key: string;
    /** Where the real key goes; `bearer` for an OAuth token. Defaults to `api-key`. */
    keyPlacement?: KeyPlacement;
  };
  /**
   * Called once per metered answer with what it consumed and the model that served it (as
   * the answer names it, else as the request's path does).
   */
  onUsage?: (usage: Usage, model: string | undefined) => void;
  /**
   * Asked before each request: a message refuses it (429 in the provider's error JSON,
   * nothing upstream). The job's budget, once used up.
   */
  refuse?: () => string | undefined;
  /**
   * Asked before a metered model call goes upstream, with the number of such calls in flight
   * (sent, answer not yet metered): false holds it until one of those has been metered, then
   * asks again. Without it nothing is held. The job's budget under concurrency.
   */
  mayForward?: (inFlight: number) => boolean;
  /** Told of a whole successful model answer that carried no usage (nothing to meter). */
  onUnmetered?: (path: string) => void;
  /** Told of each upstream answer's status, and of each upstream that failed to answer. */
  onUpstream?: (outcome: { status: number } | { error: Error }) => void;
  /** Told of each request the gateway answered itself, for the worker's log. */
  onRefused?: (why: Refusal, method: string, path: string) => void;
  /**
   * The proxy for the upstream call (`http://[user:pass@]host:port`), `''` for none;
   * by default the host's `HTTPS_PROXY` / `HTTP_PROXY` / `NO_PROXY`.
   */
  proxy?: string;
  /** Aborting closes the gateway. */
  signal?: AbortSignal;
}

export interface Gateway {
  /** `http://127.0.0.1:PORT`. */
  url: string;
  /** The URL to give the agent's CLI: {@link url} with the upstream's base path. */
  baseUrl: string;
  /** The per-job key the CLI presents; worth nothing outside this gateway. */
  key: string;
  /** Everything metered so far. */
  usage(): Usage;
  /**
   * Stops listening and ends every connection: held calls, and in-flight upstream requests,
   * whose answers are metered (as far as they came) before it resolves.
   */
  close(): Promise<void>;
}

export async function startGateway(opts: GatewayOptions): Promise<Gateway> {
  const { provider, key: realKey, keyPlacement = 'api-key' } = opts.upstream;
  const base = new URL(opts.upstream.baseUrl);
  const basePath = base.pathname.replace(/\/+$/, '');
  const secure = base.protocol === 'https:';
  const proxy =
    opts.proxy === undefined ? proxyFor(base) : opts.proxy ? new URL(opts.proxy) : undefined;
  const agent = upstreamAgent(base, proxy);
  const send = secure ? httpsRequest : httpRequest;
  const credential = upstreamCredential(provider, keyPlacement, realKey);
  const jobKey = newJobKey();
  const total = zeroUsage();
  const inFlight = new Set<ClientRequest>();
  /** CONNECT and upgrade sockets, answered by hand: the server no longer tracks them. */
  const detached = new Set<Duplex>();
  const calls = new ModelCallQueue({
    refusal: () => opts.refuse?.(),
    mayStart: (n) => opts.mayForward?.(n) ?? true,
  });
  const notModelCall = (what: string) =>
    `${what} is not a model call: the worker gateway forwards model calls only.`;

  const meter = (usage: Usage, model: string | undefined) => {
    addUsage(total, usage);
    opts.onUsage?.(usage, model);
  };

  /** Sends one checked call upstream; `settled` once its answer is metered or it failed. */
  const forward = (
    req: IncomingMessage,
    res: ServerResponse,
    target: { path: string; search: string },
    settled: () => void,
  ) => {
    const method = req.method ?? 'GET';
    const headers = endToEnd(req.headers, ['host', ...CREDENTIAL_HEADERS]);
    headers[credential[0]] = credential[1];
    // The tap reads usage from plain bytes; the leg to the agent is loopback anyway.
    headers['accept-encoding'] = 'identity';
    const upstream = send({
      protocol: base.protocol,
      hostname: base.hostname.replace(/^\[|\]$/g, ''),
      port: base.port || undefined,
      method,
      path: target.path + target.search,
      headers,
      agent,
    });
    inFlight.add(upstream);
    let answered = false;
    upstream.on('close', () => {
      inFlight.delete(upstream);
      // With an answer, its own end or close settles the call, once metered.
      if (!answered) settled();
    });
    // A client gone before its answer ends the upstream request (and frees its place); the
    // upstream is not at fault for that.
    let clientGone = false;
    res.on('close', () => {
      if (res.writableFinished) return;
      clientGone = true;
      upstream.destroy();
    });

    upstream.on('response', (answer) => {
      answered = true;
      opts.onUpstream?.({ status: answer.statusCode ?? 502 });
      const api = modelApiOf(method, target.path);
      const usage = api ? new UsageMeter(api, answer.headers['content-type']) : undefined;
      if (usage) answer.on('data', (chunk: Buffer) => usage.write(chunk));
      let metered = false;
      const finish = () => {
        if (metered) return;
        metered = true;
        const used = usage?.finish();
        if (used) meter(used, usage?.model ?? modelInPath(target.path));
        else if (usage && answer.statusCode === 200 && answer.complete)
          opts.onUnmetered?.(target.path);
        settled();
      };
      answer.on('end', finish);
      answer.on('close', finish);
      res.writeHead(answer.statusCode ?? 502, answer.statusMessage, endToEnd(answer.headers));
      pipeline(answer, res, () => {});
    });

    // The upstream can fail before it answers, while the request is sent or after: the
    // client then gets a 502 in JSON, or, once the answer has begun, a cut connection.
    const fail = (error: Error) => {
      if (clientGone) return;
      if (!res.headersSent) opts.onUpstream?.({ error });
      if (res.headersSent) {
        res.destroy();
        return;
      }
      res.writeHead(502, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({ error: { message: `Model upstream unreachable: ${error.message}` } }),
      );
    };
    upstream.on('error', fail);
    pipeline(req, upstream, (error) => {
      if (error) fail(error);
    });
  };

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const target = req.url ?? '';
    const method = req.method ?? 'GET';
    const q = target.indexOf('?');
    const query = new URLSearchParams(q < 0 ? '' : target.slice(q + 1));
    // For the log and the answer: the path as received, never the query (a Gemini `key=`).
    const shown = (q < 0 ? target : target.slice(0, q)).slice(0, 200);
    const refuse = (why: Refusal, message: string) => {
      req.resume();
      const answer = refusal(provider, why, message);
      res.writeHead(answer.status, { 'content-type': 'application/json' });
      res.end(answer.body);
      opts.onRefused?.(why, method, shown);
    };
    if (!carriesJobKey(provider, req.headers, query, jobKey)) {
      return refuse(
        'unauthorized',
        'Invalid API key for this job (refused by the worker gateway).',
      );
    }
    // Node hands an upgrade to 'request' when no 'upgrade' listener takes it, and an
    // `Upgrade` header without `Connection: upgrade` always: neither is a model call.
    if (isUpgrade(req.headers)) return refuse('not_model_call', notModelCall('An upgrade'));
    const route = checkModelCall(provider, basePath, method, target);
    if ('refused' in route) {
      const why = route.refused === 'not a model call' ? '' : ` (${route.refused})`;
      return refuse('not_model_call', notModelCall(`${method} ${shown}${why}`));
    }
    const refused = opts.refuse?.();
    if (refused) return refuse('budget', refused);
    if (!modelApiOf(method, route.path)) return forward(req, res, route, () => {});
    // A metered model call: it may have to wait for room under the budget.
    const leave = calls.enter({
      start: (settled) => forward(req, res, route, settled),
      refuse: (message) => refuse('budget', message),
      drop: () => res.destroy(),
    });
    res.on('close', leave);
  };

  const server = createServer(handle);
  // CONNECT and upgrades never reach 'request': answered here, in the provider's error JSON.
  const refuseDetached = (req: IncomingMessage, socket: Duplex) => {
    const method = req.method ?? 'GET';
    const shown = (req.url ?? '').split('?')[0]?.slice(0, 200) ?? '';
    detached.add(socket);
    socket.on('close', () => detached.delete(socket));
    const what = method === 'CONNECT' ? `CONNECT ${shown}` : 'An upgrade';
    refuseOnSocket(socket, refusal(provider, 'not_model_call', notModelCall(what)));
    opts.onRefused?.('not_model_call', method, shown);
  };
  server.on('connect', refuseDetached);
  server.on('upgrade', refuseDetached);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  let closed: Promise<void> | undefined;
  const close = () => {
    closed ??= (async () => {
      const drained = calls.close();
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      for (const socket of detached) socket.destroy();
      // server.close() does not end what the server itself asked of the upstream.
      for (const upstream of inFlight) upstream.destroy();
      agent.destroy();
      // The answers cut here are metered as far as they came: the usage is final after this.
      await Promise.all([stopped, drained]);
    })();
    return closed;
  };
  if (opts.signal) {
    if (opts.signal.aborted) void close();
    else opts.signal.addEventListener('abort', () => void close(), { once: true });
  }

  return {
    url: `http://127.0.0.1:${port}`,
    baseUrl: `http://127.0.0.1:${port}${basePath}`,
    key: jobKey,
    usage: () => ({ ...total }),
    close,
  };
}
