/**
 * The host's proxy variables for the upstream call. Node 20's `http`/`https` ignore
 * `HTTPS_PROXY` and friends, so the gateway honours them itself: the upstream connection is
 * a `CONNECT` tunnel through the proxy (TLS on top for an `https` upstream), made by an agent
 * whose `createConnection` answers asynchronously.
 */
import { type AgentOptions, Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { Duplex } from 'node:stream';
import { connect as tlsConnect } from 'node:tls';

type Env = Record<string, string | undefined>;

/** The proxy URL for `target` from the environment (`HTTPS_PROXY`, `HTTP_PROXY`, `NO_PROXY`). */
export function proxyFor(target: URL, env: Env = process.env): URL | undefined {
  const pick = (name: string) => env[name.toLowerCase()] || env[name.toUpperCase()] || undefined;
  const raw = target.protocol === 'https:' ? pick('https_proxy') : pick('http_proxy');
  if (!raw || bypassed(target, pick('no_proxy') ?? '')) return undefined;
  try {
    return new URL(raw.includes('://') ? raw : `http://${raw}`);
  } catch {
    return undefined;
  }
}

/** `NO_PROXY`: `*`, or host names / domain suffixes, each optionally with `:port`. */
function bypassed(target: URL, noProxy: string): boolean {
  const host = target.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const port = target.port || (target.protocol === 'https:' ? '443' : '80');
  return noProxy
    .split(/[\s,]+/)
    .filter(Boolean)
    .some((entry) => {
      if (entry === '*') return true;
      const [name = '', entryPort] = entry
        .toLowerCase()
        .replace(/^\*/, '')
        .split(/:(?=\d+$)/);
      if (entryPort && entryPort !== port) return false;
      const bare = name.replace(/^\./, '');
      return host === bare || host.endsWith(`.${bare}`);
    });
}

interface ConnectOptions {
  host?: string | null;
  hostname?: string | null;
  port?: number | string | null;
  servername?: string;
}
type Created = (error: Error | null, socket?: Duplex) => void;

/** Opens a CONNECT tunnel to `host:port` through `proxy`. */
function tunnel(proxy: URL, host: string, port: string, done: Created): void {
  const authority = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  const headers: Record<string, string> = { host: authority };
  if (proxy.username) {
    const user = `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`;
    headers['proxy-authorization'] = `Basic ${Buffer.from(user).toString('base64')}`;
  }
  const req = httpRequest({
    host: proxy.hostname.replace(/^\[|\]$/g, ''),
    port: proxy.port || 80,
    method: 'CONNECT',
    path: authority,
    headers,
  });
  req.once('connect', (res, socket) => {
    if (res.statusCode === 200) return done(null, socket);
    socket.destroy();
    done(new Error(`Proxy CONNECT to ${authority} answered ${res.statusCode}`));
  });
  req.once('error', (error) => done(error));
  req.end();
}

/** An agent for the upstream: direct, or through the proxy the environment names. */
export function upstreamAgent(target: URL, proxy: URL | undefined): HttpAgent {
  const options: AgentOptions = { keepAlive: true };
  const secure = target.protocol === 'https:';
  if (!proxy) return secure ? new HttpsAgent(options) : new HttpAgent(options);
  const open = (o: ConnectOptions, done: Created) => {
    const host = String(o.hostname ?? o.host ?? target.hostname);
    const port = String(o.port ?? (target.port || (secure ? 443 : 80)));
    tunnel(proxy, host, port, (error, socket) => {
      if (error || !socket) return done(error ?? new Error('Proxy tunnel failed'));
      if (!secure) return done(null, socket);
      const tls = tlsConnect({
        socket,
        servername: o.servername ?? host,
        ALPNProtocols: ['http/1.1'],
      });
      tls.once('secureConnect', () => done(null, tls));
      tls.once('error', (e) => done(e));
    });
    return undefined;
  };
  const agent = secure ? new HttpsAgent(options) : new HttpAgent(options);
  // Node's agents accept a createConnection that answers through its callback.
  (agent as unknown as { createConnection: typeof open }).createConnection = open;
  return agent;
}
