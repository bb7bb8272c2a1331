/**
 * The per-job model gateway: an HTTP server on 127.0.0.1 (random port) that the agent's CLI
 * uses as its model endpoint with a per-job key. Requests without that key are refused with
 * the provider's own 401; the rest go to the upstream with the real key, and the answers
 * stream back unchanged while a tap reads their token usage.
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
import { pipeline } from 'node:stream';
import {
  CREDENTIAL_HEADERS,
  carriesJobKey,
  type KeyPlacement,
  newJobKey,
  type Refusal,
  refusal,
  upstreamCredential,
} from './credentials.js';
import { endToEnd } from './headers.js';
import { proxyFor, upstreamAgent } from './proxy.js';
import { isModelCall } from './routes.js';
import { addUsage, type Provider, type Usage, zeroUsage } from './types.js';
import { modelApiOf, modelInPath, UsageMeter } from './usage.js';

export interface GatewayOptions {
  upstream: {
    /** The provider's endpoint or `clanker.baseUrl`; its path is a prefix of every request's. */
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
  /** `http://127.0.0.1:PORT`: the base URL to give the agent's CLI. */
  url: string;
  /** The per-job key the CLI presents; worth nothing outside this gateway. */
  key: string;
  /** Everything metered so far. */
  usage(): Usage;
  /** Stops listening and ends every connection, in-flight upstream requests included. */
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

  const meter = (usage: Usage, model: string | undefined) => {
    addUsage(total, usage);
    opts.onUsage?.(usage, model);
  };

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://gateway.invalid');
    const query = new URLSearchParams(url.search);
    const method = req.method ?? 'GET';
    const refuse = (why: Refusal, message: string) => {
      req.resume();
      const answer = refusal(provider, why, message);
      res.writeHead(answer.status, { 'content-type': 'application/json' });
      res.end(answer.body);
      opts.onRefused?.(why, method, url.pathname);
    };
    if (!carriesJobKey(provider, req.headers, query, jobKey)) {
      return refuse(
        'unauthorized',
        'Invalid API key for this job (refused by the worker gateway).',
      );
    }
    if (!isModelCall(provider, method, url.pathname)) {
      return refuse(
        'not_model_call',
        `${method} ${url.pathname} is not a model call: the worker gateway forwards model calls only.`,
      );
    }
    const refused = opts.refuse?.();
    if (refused) return refuse('budget', refused);
    query.delete('key');
    const search = query.size > 0 ? `?${query}` : '';
    const headers = endToEnd(req.headers, ['host', ...CREDENTIAL_HEADERS]);
    headers[credential[0]] = credential[1];
    // The tap reads usage from plain bytes; the leg to the agent is loopback anyway.
    headers['accept-encoding'] = 'identity';

    const upstream = send({
      protocol: base.protocol,
      hostname: base.hostname.replace(/^\[|\]$/g, ''),
      port: base.port || undefined,
      method,
      path: basePath + url.pathname + search,
      headers,
      agent,
    });
    inFlight.add(upstream);
    upstream.on('close', () => inFlight.delete(upstream));

    upstream.on('response', (answer) => {
      opts.onUpstream?.({ status: answer.statusCode ?? 502 });
      const api = modelApiOf(method, url.pathname);
      const usage = api ? new UsageMeter(api, answer.headers['content-type']) : undefined;
      if (usage) {
        answer.on('data', (chunk: Buffer) => usage.write(chunk));
        let metered = false;
        const finish = () => {
          if (metered) return;
          metered = true;
          const used = usage.finish();
          if (used) meter(used, usage.model ?? modelInPath(url.pathname));
          else if (answer.statusCode === 200 && answer.complete) opts.onUnmetered?.(url.pathname);
        };
        answer.on('end', finish);
        answer.on('close', finish);
      }
      res.writeHead(answer.statusCode ?? 502, answer.statusMessage, endToEnd(answer.headers));
      pipeline(answer, res, () => {});
    });

    // The upstream can fail before it answers, while the request is sent or after: the
    // client then gets a 502 in JSON, or, once the answer has begun, a cut connection.
    const fail = (error: Error) => {
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

  const server = createServer(handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  let closed: Promise<void> | undefined;
  const close = () => {
    closed ??= new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
      // server.close() does not end what the server itself asked of the upstream.
      for (const upstream of inFlight) upstream.destroy();
      agent.destroy();
    });
    return closed;
  };
  if (opts.signal) {
    if (opts.signal.aborted) void close();
    else opts.signal.addEventListener('abort', () => void close(), { once: true });
  }

  return {
    url: `http://127.0.0.1:${port}`,
    key: jobKey,
    usage: () => ({ ...total }),
    close,
  };
}
