/**
 * The per-job model gateway against the real scripted model server, which alone knows the
 * real key: every wire streamed and not, refusals that never reach the upstream, upstream
 * errors passed through, a hanging upstream, and a 50 MB answer streamed with backpressure.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { afterEach, describe, expect, it } from 'vitest';
import { type Gateway, type Provider, startGateway, type Usage } from '../../src/gateway/index.js';
import { type ModelServer, startModelServer } from '../support/model-server/model-server.js';
import type { ModelScript } from '../support/model-server/scripted-model.js';
import { estimateTokens } from '../support/model-server/scripted-model.js';

const REAL_KEY = 'real-upstream-key-known-only-to-the-model-server';
const ANSWER = 'Hello through the gateway.';
const textScript: ModelScript = () => ({ type: 'text', text: ANSWER });

let server: ModelServer | undefined;
let gateway: Gateway | undefined;
afterEach(async () => {
  await gateway?.close();
  await server?.close();
  gateway = undefined;
  server = undefined;
});

async function setUp(provider: Provider, script: ModelScript = textScript) {
  server = await startModelServer({ apiKey: REAL_KEY, script });
  const seen: Usage[] = [];
  gateway = await startGateway({
    // OpenAI's base URL carries its version (`…/v1`), the others' do not.
    upstream: {
      baseUrl: provider === 'openai' ? `${server.url}/v1` : server.url,
      provider,
      key: REAL_KEY,
    },
    onUsage: (u) => seen.push(u),
  });
  return { server, gateway, seen };
}

interface WireCase {
  name: string;
  provider: Provider;
  path: (stream: boolean) => string;
  body: (stream: boolean) => Record<string, unknown>;
  auth: (key: string) => Record<string, string>;
}

const user = { role: 'user', content: 'Say hello.' };
const WIRES: WireCase[] = [
  {
    name: 'Anthropic Messages',
    provider: 'anthropic',
    path: () => '/v1/messages',
    body: (stream) => ({ model: 'claude-demo', max_tokens: 100, messages: [user], stream }),
    auth: (key) => ({ 'x-api-key': key, 'anthropic-version': '2023-06-01' }),
  },
  {
    name: 'OpenAI Chat Completions',
    provider: 'openai',
    path: () => '/v1/chat/completions',
    body: (stream) => ({
      model: 'gpt-demo',
      messages: [user],
      stream,
      ...(stream ? { stream_options: { include_usage: true } } : {}),
    }),
    auth: (key) => ({ authorization: `Bearer ${key}` }),
  },
  {
    name: 'OpenAI Responses',
    provider: 'openai',
    path: () => '/v1/responses',
    body: (stream) => ({ model: 'gpt-demo', input: 'Say hello.', stream }),
    auth: (key) => ({ authorization: `Bearer ${key}` }),
  },
  {
    name: 'Gemini',
    provider: 'gemini',
    path: (stream) =>
      stream
        ? '/v1beta/models/gemini-demo:streamGenerateContent?alt=sse'
        : '/v1beta/models/gemini-demo:generateContent',
    body: () => ({ contents: [{ role: 'user', parts: [{ text: 'Say hello.' }] }] }),
    auth: (key) => ({ 'x-goog-api-key': key }),
  },
];

function post(url: string, headers: Record<string, string>, body: string) {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });
}

/** What the scripted server reports for a text answer to this raw body. */
function expectedUsage(raw: string): Usage {
  return {
    inputTokens: estimateTokens(raw),
    outputTokens: estimateTokens(`${ANSWER}""`),
    cacheReadTokens: 0,
    cacheWriteTokens: 0,
  };
}

describe('model gateway', () => {
  for (const wire of WIRES) {
    for (const stream of [true, false]) {
      it(`${wire.name}, ${stream ? 'streamed' : 'not streamed'}: forwards with the real key and meters usage`, async () => {
        const { server, gateway, seen } = await setUp(wire.provider);
        const raw = JSON.stringify(wire.body(stream));
        const res = await post(gateway.url + wire.path(stream), wire.auth(gateway.key), raw);
        const text = await res.text();
        expect(res.status, text).toBe(200);
        expect(res.headers.get('content-type')).toMatch(
          stream ? /text\/event-stream/ : /application\/json/,
        );
        expect(text).toContain(ANSWER);
        // The server only answers 200 to its real key: it reached the upstream, whole.
        expect(server.requests).toHaveLength(1);
        expect(server.requests[0]?.body).toEqual(JSON.parse(raw));
        expect(JSON.stringify(server.requests[0]?.headers)).not.toContain(gateway.key);
        expect(seen).toEqual([expectedUsage(raw)]);
        expect(gateway.usage()).toEqual(expectedUsage(raw));
      });
    }

    it(`${wire.name}: no key or a wrong key → the provider's 401, nothing upstream`, async () => {
      const { server, gateway, seen } = await setUp(wire.provider);
      const raw = JSON.stringify(wire.body(false));
      const url = gateway.url + wire.path(false);
      for (const headers of [{}, wire.auth('wrong-key'), wire.auth(REAL_KEY)]) {
        const res = await post(url, headers, raw);
        expect(res.status).toBe(401);
        const body = (await res.json()) as { error: Record<string, unknown> };
        expect(body.error).toBeTypeOf('object');
        if (wire.provider === 'anthropic') expect(body.error.type).toBe('authentication_error');
        if (wire.provider === 'gemini') expect(body.error.status).toBe('UNAUTHENTICATED');
        if (wire.provider === 'openai') expect(body.error.code).toBe('invalid_api_key');
      }
      expect(server.requests).toHaveLength(0);
      expect(seen).toEqual([]);
    });
  }

  it('takes a Gemini per-job key as ?key= and sends the real key as a header instead', async () => {
    const { server, gateway } = await setUp('gemini');
    const raw = JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'Hi.' }] }] });
    const path = '/v1beta/models/gemini-demo:streamGenerateContent?alt=sse';
    const res = await post(`${gateway.url}${path}&key=${gateway.key}`, {}, raw);
    expect(res.status, await res.text()).toBe(200);
    expect(server.requests[0]?.query).toBe('?alt=sse');
  });

  it('refuses an OpenAI per-job key sent in a header OpenAI clients do not use', async () => {
    const { server, gateway } = await setUp('openai');
    const res = await post(`${gateway.url}/v1/responses`, { 'x-api-key': gateway.key }, '{}');
    expect(res.status).toBe(401);
    expect(server.requests).toHaveLength(0);
  });

  it('accepts an Anthropic per-job key as Bearer and sends an OAuth token as Bearer', async () => {
    server = await startModelServer({ apiKey: REAL_KEY, script: textScript });
    gateway = await startGateway({
      upstream: {
        baseUrl: server.url,
        provider: 'anthropic',
        key: REAL_KEY,
        keyPlacement: 'bearer',
      },
    });
    const raw = JSON.stringify(WIRES[0]?.body(true));
    const res = await post(
      `${gateway.url}/v1/messages`,
      { authorization: `Bearer ${gateway.key}`, 'anthropic-version': '2023-06-01' },
      raw,
    );
    expect(res.status, await res.text()).toBe(200);
    expect(gateway.usage()).toEqual(expectedUsage(raw));
  });

  it('ends the upstream answer when the client goes away, and closes on abort', async () => {
    let upstreamClosed!: () => void;
    const closedUpstream = new Promise<void>((r) => {
      upstreamClosed = r;
    });
    const upstream: Server = createServer((req, res) => {
      req.resume();
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: {}\n\n');
      res.on('close', () => upstreamClosed());
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', () => r()));
    const abort = new AbortController();
    try {
      gateway = await startGateway({
        upstream: {
          baseUrl: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/v1`,
          provider: 'openai',
          key: REAL_KEY,
        },
        signal: abort.signal,
      });
      const client = new AbortController();
      const res = await fetch(`${gateway.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${gateway.key}` },
        body: '{}',
        signal: client.signal,
      });
      expect(res.status).toBe(200);
      client.abort();
      await closedUpstream;
      abort.abort();
      await expect(fetch(`${gateway.url}/v1/models`)).rejects.toThrow();
    } finally {
      upstream.closeAllConnections();
      await new Promise((r) => upstream.close(r));
    }
  });

  it('answers 502 when the upstream cannot be reached or drops the request', async () => {
    const dropping: Server = createServer((req) => {
      req.resume();
      req.on('end', () => req.socket.destroy());
    });
    await new Promise<void>((r) => dropping.listen(0, '127.0.0.1', () => r()));
    const port = (dropping.address() as AddressInfo).port;
    try {
      for (const baseUrl of [`http://127.0.0.1:${port}/v1`, 'http://127.0.0.1:1/v1']) {
        const g = await startGateway({ upstream: { baseUrl, provider: 'openai', key: REAL_KEY } });
        const res = await post(`${g.url}/v1/responses`, { authorization: `Bearer ${g.key}` }, '{}');
        expect(res.status).toBe(502);
        expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(
          /upstream unreachable/,
        );
        await g.close();
      }
    } finally {
      await new Promise((r) => dropping.close(r));
    }
  });

  it('passes an upstream 401 through unchanged', async () => {
    server = await startModelServer({ apiKey: REAL_KEY });
    const seen: Usage[] = [];
    gateway = await startGateway({
      upstream: { baseUrl: server.url, provider: 'anthropic', key: 'a-stale-real-key' },
      onUsage: (u) => seen.push(u),
    });
    const raw = JSON.stringify(WIRES[0]?.body(false));
    const auth = { 'anthropic-version': '2023-06-01' };
    const direct = await post(`${server.url}/v1/messages`, { ...auth, 'x-api-key': 'x' }, raw);
    const through = await post(
      `${gateway.url}/v1/messages`,
      { ...auth, 'x-api-key': gateway.key },
      raw,
    );
    expect(through.status).toBe(401);
    expect(through.headers.get('request-id')).toBe(direct.headers.get('request-id'));
    expect(await through.text()).toBe(await direct.text());
    expect(server.requests).toHaveLength(2);
    expect(seen).toEqual([]);
  });

  it('says so when a whole model answer carries no usage (an upstream not asked for it)', async () => {
    const bare: Server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write('data: {"choices":[{"index":0,"delta":{"content":"Hi"}}]}\n\n');
        res.end('data: [DONE]\n\n');
      });
    });
    await new Promise<void>((done) => bare.listen(0, '127.0.0.1', done));
    const unmetered: string[] = [];
    const seen: Usage[] = [];
    const local = await startGateway({
      upstream: {
        baseUrl: `http://127.0.0.1:${(bare.address() as AddressInfo).port}/v1`,
        provider: 'openai',
        key: REAL_KEY,
      },
      onUsage: (u) => seen.push(u),
      onUnmetered: (path) => unmetered.push(path),
    });
    try {
      const res = await post(
        `${local.url}/v1/chat/completions`,
        { authorization: `Bearer ${local.key}` },
        JSON.stringify({ model: 'm', messages: [user], stream: true }),
      );
      expect(await res.text()).toContain('"Hi"');
      await new Promise((r) => setTimeout(r, 50));
      expect(seen).toEqual([]);
      expect(unmetered).toEqual(['/v1/chat/completions']);
    } finally {
      await local.close();
      await new Promise((done) => bare.close(done));
    }
  });

  it('does not meter token counting or model lists, and forwards them', async () => {
    const { server, gateway, seen } = await setUp('anthropic');
    const auth = { 'x-api-key': gateway.key, 'anthropic-version': '2023-06-01' };
    const raw = JSON.stringify({ model: 'claude-demo', messages: [user] });
    const counted = await post(`${gateway.url}/v1/messages/count_tokens`, auth, raw);
    expect(await counted.json()).toEqual({ input_tokens: estimateTokens(raw) });
    const models = await fetch(`${gateway.url}/v1/models`, { headers: auth });
    expect(models.status).toBe(200);
    expect(server.requests.map((r) => r.path)).toEqual(['/v1/messages/count_tokens', '/v1/models']);
    expect(seen).toEqual([]);
  });

  it('sums usage over answers and keeps the upstream base path', async () => {
    server = await startModelServer({ apiKey: REAL_KEY, script: textScript });
    gateway = await startGateway({
      upstream: { baseUrl: `${server.url}/v1/`, provider: 'openai', key: REAL_KEY },
    });
    const raw = JSON.stringify(WIRES[1]?.body(true));
    for (let i = 0; i < 3; i++) {
      // The CLI is given the gateway with the upstream's base path.
      const res = await post(
        `${gateway.baseUrl}/chat/completions`,
        WIRES[1]?.auth(gateway.key) ?? {},
        raw,
      );
      await res.text();
    }
    const one = expectedUsage(raw);
    expect(gateway.usage()).toEqual({
      ...one,
      inputTokens: 3 * one.inputTokens,
      outputTokens: 3 * one.outputTokens,
    });
    expect(server.requests.map((r) => r.path)).toEqual(Array(3).fill('/v1/chat/completions'));
  });

  it('forwards model calls only: anything else the real key could open is a 404, nothing upstream', async () => {
    const { server, gateway } = await setUp('openai');
    const refused: string[] = [];
    await gateway.close();
    const strict = await startGateway({
      upstream: { baseUrl: `${server.url}/v1`, provider: 'openai', key: REAL_KEY },
      onRefused: (why, method, path) => refused.push(`${why} ${method} ${path}`),
    });
    try {
      const auth = { authorization: `Bearer ${strict.key}` };
      for (const [method, path] of [
        ['GET', '/v1/files'],
        ['POST', '/v1/batches'],
        ['GET', '/v1/organization/api_keys'],
        ['DELETE', '/v1/models/ft-mine'],
      ] as const) {
        const res = await fetch(strict.url + path, {
          method,
          headers: auth,
          ...(method === 'POST' ? { body: '{}' } : {}),
        });
        expect(res.status).toBe(404);
        const body = (await res.json()) as { error: { code: string; message: string } };
        expect(body.error.code).toBe('not_found');
        expect(body.error.message).toContain('not a model call');
      }
      expect(server.requests).toHaveLength(0);
      expect(refused).toEqual([
        'not_model_call GET /v1/files',
        'not_model_call POST /v1/batches',
        'not_model_call GET /v1/organization/api_keys',
        'not_model_call DELETE /v1/models/ft-mine',
      ]);
    } finally {
      await strict.close();
    }
  });

  it("refuses every request once told to (the budget), in the provider's words, nothing upstream", async () => {
    server = await startModelServer({ apiKey: REAL_KEY, script: textScript });
    let used: string | undefined;
    const models: Array<string | undefined> = [];
    const statuses: number[] = [];
    gateway = await startGateway({
      upstream: { baseUrl: server.url, provider: 'anthropic', key: REAL_KEY },
      onUsage: (_usage, model) => {
        models.push(model);
        used = 'cap reached';
      },
      refuse: () => used && `The job's budget is used up (${used}).`,
      onUpstream: (outcome) => statuses.push('status' in outcome ? outcome.status : 0),
    });
    const wire = WIRES[0] as WireCase;
    const raw = JSON.stringify(wire.body(true));
    const first = await post(gateway.url + wire.path(true), wire.auth(gateway.key), raw);
    expect(first.status).toBe(200);
    await first.text();
    expect(models).toEqual(['claude-demo']);
    expect(statuses).toEqual([200]);
    for (const path of ['/v1/messages', '/v1/messages/count_tokens']) {
      const res = await post(gateway.url + path, wire.auth(gateway.key), raw);
      expect(res.status).toBe(429);
      const body = (await res.json()) as { error: { type: string; message: string } };
      expect(body.error.type).toBe('rate_limit_error');
      expect(body.error.message).toContain('budget is used up (cap reached)');
    }
    expect(server.requests).toHaveLength(1);
  });

  it('closes promptly while an upstream hangs, and the process can exit', async () => {
    server = await startModelServer({ apiKey: REAL_KEY, script: () => ({ type: 'hang' }) });
    const dir = await mkdtemp(join(tmpdir(), 'gateway-exit-'));
    try {
      const bundle = join(dir, 'gateway.mjs');
      await build({
        entryPoints: [resolve('src/gateway/index.ts')],
        bundle: true,
        platform: 'node',
        format: 'esm',
        outfile: bundle,
      });
      const child = join(dir, 'child.mjs');
      await writeFile(
        child,
        `import { startGateway } from './gateway.mjs';
const [baseUrl, key] = process.argv.slice(2);
const gateway = await startGateway({ upstream: { baseUrl, provider: 'anthropic', key } });
const pending = fetch(gateway.url + '/v1/messages', {
  method: 'POST',
  headers: { 'x-api-key': gateway.key, 'content-type': 'application/json' },
  body: JSON.stringify({ model: 'm', max_tokens: 1, messages: [{ role: 'user', content: 'hi' }] }),
}).then((r) => r.text()).catch((e) => 'failed: ' + e.message);
await new Promise((r) => setTimeout(r, 500));
const started = Date.now();
await gateway.close();
console.log('closed in', Date.now() - started, 'ms;', await pending);
`,
      );
      const started = Date.now();
      const proc = spawn(process.execPath, [child, server.url, REAL_KEY], { stdio: 'pipe' });
      let out = '';
      proc.stdout.on('data', (c) => {
        out += c;
      });
      proc.stderr.on('data', (c) => {
        out += c;
      });
      const code = await new Promise<number | null>((done) => {
        const timer = setTimeout(() => {
          proc.kill('SIGKILL');
          done(-1);
        }, 10_000);
        proc.on('exit', (c) => {
          clearTimeout(timer);
          done(c);
        });
      });
      expect(code, out).toBe(0);
      expect(out).toMatch(/closed in \d+ ms; failed/);
      expect(Number(/closed in (\d+)/.exec(out)?.[1])).toBeLessThan(500);
      expect(Date.now() - started).toBeLessThan(8_000);
      expect(server.requests).toHaveLength(1);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('streams a 50 MB answer through with backpressure and flat memory', async () => {
    const TOTAL = 50 * 1024 * 1024;
    const event = Buffer.from(
      `event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"${'x'.repeat(16 * 1024 - 100)}"}}\n\n`,
    );
    let sent = 0;
    const upstream: Server = createServer((req, res) => {
      req.resume();
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(
        'event: message_start\ndata: {"type":"message_start","message":{"usage":{"input_tokens":7,"output_tokens":1}}}\n\n',
      );
      const pump = () => {
        while (sent < TOTAL) {
          sent += event.length;
          if (!res.write(event)) return void res.once('drain', pump);
        }
        res.end(
          'event: message_delta\ndata: {"type":"message_delta","usage":{"output_tokens":12345}}\n\n',
        );
      };
      pump();
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', () => r()));
    try {
      const seen: Usage[] = [];
      gateway = await startGateway({
        upstream: {
          baseUrl: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`,
          provider: 'anthropic',
          key: REAL_KEY,
        },
        onUsage: (u) => seen.push(u),
      });
      const res = await post(`${gateway.url}/v1/messages`, { 'x-api-key': gateway.key }, '{}');
      const reader = (res.body as ReadableStream<Uint8Array>).getReader();
      // Not reading: the upstream must stall once the buffers on the way are full.
      await new Promise((r) => setTimeout(r, 400));
      expect(sent).toBeLessThan(16 * 1024 * 1024);
      const rssBefore = process.memoryUsage().rss;
      let peak = rssBefore;
      let received = 0;
      const started = performance.now();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        received += value.length;
        if ((received & 0xfffff) < value.length) peak = Math.max(peak, process.memoryUsage().rss);
      }
      const seconds = (performance.now() - started) / 1000;
      expect(received).toBeGreaterThan(TOTAL);
      expect(peak - rssBefore).toBeLessThan(64 * 1024 * 1024);
      expect(seen).toEqual([
        { inputTokens: 7, outputTokens: 12345, cacheReadTokens: 0, cacheWriteTokens: 0 },
      ]);
      console.log(
        `50 MB through the gateway: ${(received / 1048576 / seconds).toFixed(0)} MB/s, RSS +${((peak - rssBefore) / 1048576).toFixed(1)} MB`,
      );
    } finally {
      await gateway?.close();
      await new Promise<void>((r) => {
        upstream.close(() => r());
        upstream.closeAllConnections();
      });
    }
  });
});
