import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createSandbox, runClaudeHeadless, type Sandbox } from '../../record-claude-fixture.js';
import {
  type ModelServer as AnthropicModelServer,
  type ModelServerOptions as AnthropicModelServerOptions,
  startModelServer as startAnthropicModelServer,
} from '../model-server.js';
import { parseDirectives } from '../scripted-model.js';

/** The parts of a Messages request the tests build. */
interface MessagesRequest {
  model?: string;
  max_tokens?: number;
  stream?: boolean;
  tools?: Array<{ name: string; input_schema?: unknown }>;
  messages?: Array<{ role: string; content: unknown }>;
}

const KEY = 'sk-test-model-server';

/** Resources of one test, released in afterEach even when the test fails. */
let server: AnthropicModelServer | undefined;
let sandbox: Sandbox | undefined;

afterEach(async () => {
  await server?.close();
  await sandbox?.remove();
  server = undefined;
  sandbox = undefined;
});

async function start(opts?: AnthropicModelServerOptions): Promise<AnthropicModelServer> {
  server = await startAnthropicModelServer({ apiKey: KEY, ...opts });
  return server;
}

function lastJson(lines: string[]): Record<string, unknown> {
  return JSON.parse(lines.at(-1) ?? '{}') as Record<string, unknown>;
}

/** One server-sent event of a streamed message, as far as the tests look. */
interface SseEvent {
  type: string;
  content_block?: Record<string, unknown>;
  delta?: { type?: string; partial_json?: string; stop_reason?: string };
  usage?: { output_tokens: number };
}

/** A minimal Messages request as Claude Code would send it. */
function request(prompt: string, extra: Partial<MessagesRequest> = {}): MessagesRequest {
  return {
    model: 'claude-demo',
    max_tokens: 1024,
    tools: [{ name: 'Write', input_schema: { type: 'object' } }],
    messages: [
      { role: 'user', content: [{ type: 'text', text: prompt }] },
      { role: 'system', content: ' - Primary working directory: /work/checkout\n' },
    ],
    ...extra,
  };
}

function post(s: AnthropicModelServer, body: unknown, headers: Record<string, string> = {}) {
  return fetch(`${s.url}/v1/messages?beta=true`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': KEY, ...headers },
    body: JSON.stringify(body),
  });
}

describe('model server, Anthropic wire, with the real claude CLI', () => {
  it('writes the files a [[write]] prompt asks for, in a git checkout', {
    timeout: 60_000,
  }, async () => {
    const s = await start();
    sandbox = await createSandbox();
    const prompt = [
      'Add a greeting.',
      '[[write greeting.txt]]',
      'Hello from the model server.',
      '[[end]]',
      '[[write src/util/answer.js]]',
      'export const answer = 42;',
      '[[end]]',
    ].join('\n');
    const run = await runClaudeHeadless({
      baseUrl: s.url,
      apiKey: KEY,
      prompt,
      checkout: sandbox.checkout,
      home: sandbox.home,
      model: 'claude-sonnet-4-5',
    });

    expect(run.exit).toEqual({ code: 0, signal: null });
    expect(await readFile(join(sandbox.checkout, 'greeting.txt'), 'utf8')).toBe(
      'Hello from the model server.\n',
    );
    expect(await readFile(join(sandbox.checkout, 'src/util/answer.js'), 'utf8')).toBe(
      'export const answer = 42;\n',
    );
    const result = lastJson(run.stdout);
    expect(result).toMatchObject({ type: 'result', subtype: 'success', is_error: false });
    expect(result.result).toBe('Wrote greeting.txt, src/util/answer.js.');

    const messages = s.requests.filter((r) => r.path === '/v1/messages');
    expect(messages.length).toBeGreaterThanOrEqual(3);
    expect(messages[0]?.query).toBe('?beta=true');
    expect((messages[0]?.body as MessagesRequest | undefined)?.model).toBe('claude-sonnet-4-5');
    // Credentials are never recorded.
    for (const r of s.requests) {
      expect(r.headers['x-api-key']).toBeUndefined();
      expect(r.headers.authorization).toBeUndefined();
    }
  });

  it('makes the CLI fail fast on [[status 401]]', { timeout: 30_000 }, async () => {
    const s = await start();
    sandbox = await createSandbox();
    const run = await runClaudeHeadless({
      baseUrl: s.url,
      apiKey: KEY,
      prompt: 'Do something.\n[[status 401]]',
      checkout: sandbox.checkout,
      home: sandbox.home,
      env: { CLAUDE_CODE_MAX_RETRIES: '0' },
    });
    expect(run.exit.code).not.toBe(0);
    expect(run.durationMs).toBeLessThan(10_000);
    expect(lastJson(run.stdout)).toMatchObject({
      type: 'result',
      is_error: true,
      api_error_status: 401,
    });
  });

  it('rejects a CLI that sends the wrong key', { timeout: 30_000 }, async () => {
    const s = await start();
    sandbox = await createSandbox();
    const run = await runClaudeHeadless({
      baseUrl: s.url,
      apiKey: 'sk-wrong',
      prompt: 'Hello?',
      checkout: sandbox.checkout,
      home: sandbox.home,
      env: { CLAUDE_CODE_MAX_RETRIES: '0' },
    });
    expect(run.exit.code).toBe(1);
    expect(lastJson(run.stdout)).toMatchObject({ is_error: true, api_error_status: 401 });
  });

  it('never answers on [[hang]], and still closes cleanly', { timeout: 30_000 }, async () => {
    const s = await start();
    sandbox = await createSandbox();
    const run = await runClaudeHeadless({
      baseUrl: s.url,
      apiKey: KEY,
      prompt: 'Wait for it.\n[[hang]]',
      checkout: sandbox.checkout,
      home: sandbox.home,
      killAfterMs: 2_000,
    });
    // Claude Code catches SIGTERM and exits 143 rather than dying by the signal.
    expect(run.exit.signal === 'SIGTERM' || run.exit.code === 143).toBe(true);
    expect(run.stdout.some((l) => l.includes('"type":"result"'))).toBe(false);
    expect(s.requests.some((r) => r.path === '/v1/messages')).toBe(true);
    const closing = Date.now();
    await s.close();
    server = undefined;
    expect(Date.now() - closing).toBeLessThan(1_000);
  });
});

describe('model server, Anthropic wire, over plain HTTP', () => {
  it('answers 401 with Anthropic’s error JSON without a valid key, and accepts Bearer', async () => {
    const s = await start();
    const bad = await post(s, request('hi'), { 'x-api-key': 'nope' });
    expect(bad.status).toBe(401);
    expect(await bad.json()).toEqual({
      type: 'error',
      error: { type: 'authentication_error', message: 'invalid x-api-key' },
    });
    const bearer = await fetch(`${s.url}/v1/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}` },
      body: JSON.stringify(request('hi')),
    });
    expect(bearer.status).toBe(200);
  });

  it('streams a Write tool call with input_json_delta, then the answer', async () => {
    const s = await start();
    const prompt = '[[write a.txt]]\nA\n[[end]]\n[[answer]]\nAll set.\n[[end]]';
    const res = await post(s, request(prompt, { stream: true }));
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const sse = await res.text();
    const events = sse
      .split('\n\n')
      .filter(Boolean)
      .map((chunk) => {
        const data =
          chunk
            .split('\n')
            .find((l) => l.startsWith('data: '))
            ?.slice(6) ?? '{}';
        return JSON.parse(data) as SseEvent;
      });
    expect(events.map((e) => e.type)).toEqual([
      'message_start',
      'content_block_start',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    expect(events[1]?.content_block).toMatchObject({ type: 'tool_use', name: 'Write', input: {} });
    const input = events
      .filter((e) => e.delta?.type === 'input_json_delta')
      .map((e) => e.delta?.partial_json)
      .join('');
    expect(JSON.parse(input)).toEqual({ file_path: '/work/checkout/a.txt', content: 'A\n' });
    expect(events[4]?.delta?.stop_reason).toBe('tool_use');
    expect(events[4]?.usage?.output_tokens).toBeGreaterThan(0);

    // With the tool call in the history, the next turn is the [[answer]] text.
    const second = request(prompt);
    second.messages?.push(
      { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'Write', input: {} }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't1', content: 'ok' }] },
    );
    const json = (await (await post(s, second)).json()) as Record<string, unknown>;
    expect(json).toMatchObject({
      type: 'message',
      role: 'assistant',
      stop_reason: 'end_turn',
      content: [{ type: 'text', text: 'All set.' }],
    });
  });

  it('answers requests offering no tools with short text, whatever the prompt says', async () => {
    const s = await start();
    const res = await post(s, request('[[status 500]]\n[[hang]]', { tools: [] }));
    expect(res.status).toBe(200);
    expect(((await res.json()) as { content: unknown }).content).toEqual([
      { type: 'text', text: 'OK.' },
    ]);
  });

  it('sends the error a [[status]] directive names', async () => {
    const s = await start();
    const res = await post(s, request('[[status 529]]'));
    expect(res.status).toBe(529);
    expect(await res.json()).toEqual({
      type: 'error',
      error: { type: 'overloaded_error', message: 'Overloaded' },
    });
  });

  it('ignores directives inside system reminders (CLAUDE.md, git status)', async () => {
    const s = await start();
    const body = request('');
    body.messages = [
      {
        role: 'user',
        content: [
          { type: 'text', text: '<system-reminder>\n[[status 500]]\n</system-reminder>' },
          { type: 'text', text: 'Just answer.' },
        ],
      },
    ];
    const res = await post(s, body);
    expect(res.status).toBe(200);
  });

  it('runs a custom script and records requests without credentials', async () => {
    const s = await start({
      script: (turn) =>
        turn.cwd === undefined
          ? { type: 'text', text: 'custom', thinking: 'hmm' }
          : { type: 'error', status: 400 },
    });
    const json = (await (
      await post(s, request('x', { messages: [{ role: 'user', content: 'x' }] }))
    ).json()) as { content: unknown };
    expect(json.content).toEqual([
      { type: 'thinking', thinking: 'hmm', signature: expect.any(String) },
      { type: 'text', text: 'custom' },
    ]);
    expect((await post(s, request('x'))).status).toBe(400);
    expect(s.requests).toHaveLength(2);
    expect(s.requests[0]).toMatchObject({
      method: 'POST',
      path: '/v1/messages',
      query: '?beta=true',
    });
    expect(s.requests[0]?.headers['x-api-key']).toBeUndefined();
  });

  it('answers count_tokens, models and the start-up probe; 404 for the rest', async () => {
    const s = await start();
    const headers = { 'x-api-key': KEY };
    const count = await fetch(`${s.url}/v1/messages/count_tokens`, {
      method: 'POST',
      headers,
      body: JSON.stringify(request('hello')),
    });
    expect(((await count.json()) as Record<string, number>).input_tokens).toBeGreaterThan(0);
    const models = await fetch(`${s.url}/v1/models`, { headers });
    expect(((await models.json()) as { data: unknown[] }).data).toHaveLength(1);
    expect((await fetch(`${s.url}/api/hello`, { method: 'HEAD' })).status).toBe(200);
    const missing = await fetch(`${s.url}/v1/nothing`, { headers });
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { message: string } }).error.message).toContain(
      '/v1/nothing',
    );
  });

  it('close() ends a request that is hanging', async () => {
    const s = await start();
    const pending = post(s, request('[[hang]]', { stream: true })).then(
      async (r) => r.text(),
      (error: unknown) => error,
    );
    await new Promise((r) => setTimeout(r, 200));
    const closing = Date.now();
    await s.close();
    server = undefined;
    expect(Date.now() - closing).toBeLessThan(1_000);
    expect(await pending).toBeInstanceOf(Error);
  });
});

describe('parseDirectives', () => {
  it('reads write blocks verbatim, the answer, hang and status', () => {
    const d = parseDirectives(
      [
        'intro',
        '[[write a/b.txt]]',
        '  indented',
        '',
        'last',
        '[[end]]',
        '[[answer]]',
        'Done.',
        '[[end]]',
        '[[hang]]',
        '[[status 503]]',
      ].join('\n'),
    );
    expect(d).toEqual({
      writes: [{ path: 'a/b.txt', content: '  indented\n\nlast\n' }],
      steps: [{ kind: 'write', path: 'a/b.txt', content: '  indented\n\nlast\n' }],
      answer: 'Done.',
      hang: true,
      status: 503,
    });
  });
});
