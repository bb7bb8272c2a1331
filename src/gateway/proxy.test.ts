import { createServer, type Server } from 'node:http';
import { type AddressInfo, connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type ModelServer,
  startModelServer,
} from '../../test/support/model-server/model-server.js';
import { type Gateway, startGateway } from './gateway.js';
import { proxyFor } from './proxy.js';

describe('proxyFor', () => {
  const env = {
    HTTPS_PROXY: 'http://proxy:3128',
    http_proxy: 'proxy2:8080',
    NO_PROXY: '.internal,localhost:8443',
  };
  it('picks the variable for the scheme and honours NO_PROXY', () => {
    expect(proxyFor(new URL('https://api.example.com'), env)?.href).toBe('http://proxy:3128/');
    expect(proxyFor(new URL('http://api.example.com'), env)?.href).toBe('http://proxy2:8080/');
    expect(proxyFor(new URL('https://models.internal/v1'), env)).toBeUndefined();
    expect(proxyFor(new URL('https://internal'), env)).toBeUndefined();
    expect(proxyFor(new URL('https://localhost:8443'), env)).toBeUndefined();
    expect(proxyFor(new URL('https://localhost:9443'), env)?.host).toBe('proxy:3128');
    expect(
      proxyFor(new URL('https://x'), { HTTPS_PROXY: 'http://p:1', NO_PROXY: '*' }),
    ).toBeUndefined();
    expect(proxyFor(new URL('https://x'), {})).toBeUndefined();
  });
});

describe('gateway through a proxy', () => {
  let proxy: Server | undefined;
  let model: ModelServer | undefined;
  let gateway: Gateway | undefined;
  const sockets = new Set<Socket>();
  afterEach(async () => {
    await gateway?.close();
    await model?.close();
    for (const s of sockets) s.destroy();
    proxy?.closeAllConnections();
    await new Promise((r) => (proxy ? proxy.close(r) : r(undefined)));
  });

  it('tunnels the upstream call with CONNECT, proxy credentials included', async () => {
    model = await startModelServer({ apiKey: 'real' });
    const tunnels: Array<{ target: string; auth: string | undefined }> = [];
    proxy = createServer((_req, res) => res.writeHead(405).end());
    proxy.on('connect', (req, client: Socket) => {
      tunnels.push({ target: String(req.url), auth: req.headers['proxy-authorization'] });
      const [host = '', port] = String(req.url).split(':');
      const upstream = connect(Number(port), host, () => {
        client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        upstream.pipe(client).pipe(upstream);
      });
      sockets.add(upstream);
      sockets.add(client);
      upstream.on('error', () => client.destroy());
      client.on('error', () => upstream.destroy());
    });
    await new Promise<void>((r) => proxy?.listen(0, '127.0.0.1', () => r()));
    const port = (proxy.address() as AddressInfo).port;
    gateway = await startGateway({
      upstream: { baseUrl: `${model.url}/v1`, provider: 'openai', key: 'real' },
      proxy: `http://me:s%40cret@127.0.0.1:${port}`,
    });
    const res = await fetch(`${gateway.url}/v1/models`, {
      headers: { authorization: `Bearer ${gateway.key}` },
    });
    expect(res.status).toBe(200);
    expect(tunnels).toEqual([
      {
        target: new URL(model.url).host,
        auth: `Basic ${Buffer.from('me:s@cret').toString('base64')}`,
      },
    ]);
  });
});
