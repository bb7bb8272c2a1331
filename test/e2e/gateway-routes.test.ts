/**
 * Exact routes through the real gateway against the real scripted model server (runtime.md,
 * "Model gateway"): request targets that end like a model call but are not one, encoded
 * separators, dot segments, absolute-form request lines, CONNECT and upgrades are answered by
 * the gateway itself and never reach the upstream with the real key. Sent byte for byte on
 * sockets, as fetch would normalise them.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { adapterFor } from '../../src/agents/registry.js';
import { type JobGateway, startJobGateway } from '../../src/core/job-gateway.js';
import { type Gateway, startGateway } from '../../src/gateway/index.js';
import { type ModelServer, startModelServer } from '../support/model-server/model-server.js';
import { rawRequest } from '../support/raw-http.js';

const REAL_KEY = 'real-upstream-key-known-only-to-the-model-server';
const BODY = JSON.stringify({
  model: 'claude-demo',
  max_tokens: 16,
  messages: [{ role: 'user', content: 'Say hello.' }],
});

let server: ModelServer | undefined;
let gateway: Gateway | undefined;
let jobGateway: JobGateway | undefined;
afterEach(async () => {
  await gateway?.close();
  await jobGateway?.close();
  await server?.close();
  gateway = jobGateway = server = undefined;
});

/** Request lines and extra headers that must never reach the upstream. */
function attacks(upstreamPort: number): Array<[name: string, head: string]> {
  const post = (target: string) => `POST ${target} HTTP/1.1`;
  return [
    ['suffix behind another path', post('/v1/organizations/me/v1/messages')],
    ['encoded ? before a suffix', post('/v1/files%3F/v1/messages')],
    ['encoded traversal', 'GET /v1/models/..%2F..%2Fv1%2Ffiles HTTP/1.1'],
    ['lower-case encodings', 'GET /v1/models/..%2f..%2fv1%2ffiles HTTP/1.1'],
    ['absolute form', post(`http://127.0.0.1:${upstreamPort}/v1/messages`)],
    ['absolute form, other host', post('http://api.anthropic.com/v1/files')],
    ['CONNECT', `CONNECT 127.0.0.1:${upstreamPort} HTTP/1.1`],
    ['upgrade', 'GET /v1/models HTTP/1.1\r\nconnection: upgrade\r\nupgrade: websocket'],
    ['upgrade header alone', `${post('/v1/messages')}\r\nupgrade: h2c`],
    ['double slash', post('//v1/messages')],
    ['empty segment', post('/v1//messages')],
    ['encoded dot segment', post('/v1/%2e%2e/v1/messages')],
    ['dot segment', post('/v1/messages/../files')],
    ['backslash', post('/v1\\messages')],
    ['NUL', post('/v1/messages%00')],
    ['parameter', post('/v1/messages;x=1')],
    ['trailing dot', post('/v1/messages.')],
    ['trailing slash', post('/v1/messages/')],
    ['case', post('/V1/Messages')],
    ['fragment', post('/v1/messages#x')],
    ['asterisk', 'OPTIONS * HTTP/1.1'],
  ];
}

describe('model gateway: exact routes', () => {
  it('answers every attack itself, in the provider error JSON, and nothing reaches the upstream', async () => {
    server = await startModelServer({ apiKey: REAL_KEY });
    const refused: string[] = [];
    gateway = await startGateway({
      upstream: { baseUrl: server.url, provider: 'anthropic', key: REAL_KEY },
      onRefused: (why, method) => refused.push(`${why} ${method}`),
    });
    const port = Number(new URL(gateway.url).port);
    const upstreamPort = Number(new URL(server.url).port);
    const auth = `host: 127.0.0.1\r\nx-api-key: ${gateway.key}\r\nanthropic-version: 2023-06-01\r\ncontent-type: application/json`;
    // Every attack, then one verdict: the list says which got through, and how.
    const wrong: string[] = [];
    for (const [name, head] of attacks(upstreamPort)) {
      const [line, ...extra] = head.split('\r\n');
      const answer = await rawRequest(port, [line, auth, ...extra].join('\r\n'), BODY);
      const type = (JSON.parse(answer.body || '{}') as { type?: string }).type;
      // The gateway's own refusal: a 4xx in Anthropic's error JSON.
      if (answer.status < 400 || answer.status >= 500 || type !== 'error')
        wrong.push(`${name}: ${answer.status} ${answer.body.slice(0, 80)}`);
    }
    expect(wrong).toEqual([]);
    expect(server.requests.map((r) => `${r.method} ${r.path}`)).toEqual([]);
    // Each one was logged as refused (as every refusal is).
    expect(refused).toHaveLength(attacks(upstreamPort).length);

    // The real call still goes through, on the same gateway.
    const ok = await rawRequest(port, `POST /v1/messages?beta=true HTTP/1.1\r\n${auth}`, BODY);
    expect(ok.status, ok.body).toBe(200);
    expect(server.requests.map((r) => `${r.method} ${r.path}${r.query}`)).toEqual([
      'POST /v1/messages?beta=true',
    ]);
  });

  it("matches after the upstream's base path: the CLI's base URL carries it, nothing else passes", async () => {
    server = await startModelServer({ apiKey: REAL_KEY });
    jobGateway = await startJobGateway({
      adapter: adapterFor('codex'),
      clanker: { id: 'c', agent: 'codex', model: 'gpt-demo', baseUrl: `${server.url}/v1` },
      modelKey: { name: 'OPENAI_API_KEY', value: REAL_KEY },
      budget: undefined,
      emit: () => {},
      onBudgetReached: () => {},
      log: () => {},
      hostEnv: {},
    });
    const { baseUrl, key } = jobGateway.access;
    expect(baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1$/);
    const origin = new URL(baseUrl).origin;
    const ask = (url: string) =>
      fetch(url, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'gpt-demo', input: 'Say hello.' }),
      });
    const ok = await ask(`${baseUrl}/responses`);
    expect(ok.status, await ok.text()).toBe(200);
    for (const url of [
      `${origin}/responses`,
      `${origin}/v2/responses`,
      `${baseUrl}/v1/responses`,
      `${origin}/x/v1/responses`,
    ]) {
      const res = await ask(url);
      expect(res.status, url).toBe(404);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('not_found');
    }
    expect(server.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['POST /v1/responses']);
  });
});
