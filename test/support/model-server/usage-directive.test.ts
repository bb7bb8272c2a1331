/**
 * The usage the scripted model server reports: the `[[usage]]` directive's exact figures on
 * every wire, streamed or not, else the size-based estimate; and the figures recorded on each
 * request, which the end-to-end tests compare with what the worker metered.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ModelServer,
  type RecordedRequest,
  type ReportedUsage,
  startModelServer,
  sumReportedUsage,
} from './model-server.js';
import { directedUsage, type ModelTurn, parseDirectives } from './scripted-model.js';

const KEY = 'sk-usage-test';
let server: ModelServer;

beforeAll(async () => {
  server = await startModelServer({ apiKey: KEY });
});
afterAll(async () => server?.close());

/** One wire as a client calls it, and where its answers carry the token figures. */
interface WireCall {
  name: string;
  path: (stream: boolean) => string;
  body: (prompt: string, stream: boolean, tools: boolean) => Record<string, unknown>;
  /** Input and output figures found in one JSON document or stream event. */
  figures: (doc: any) => Partial<ReportedUsage>;
}

const WIRES: WireCall[] = [
  {
    name: 'Anthropic Messages',
    path: () => '/v1/messages',
    body: (prompt, stream, tools) => ({
      model: 'claude-demo',
      max_tokens: 100,
      stream,
      tools: tools ? [{ name: 'Write', input_schema: { type: 'object' } }] : [],
      messages: [{ role: 'user', content: [{ type: 'text', text: prompt }] }],
    }),
    figures: (doc) => {
      const usage = doc?.usage ?? doc?.message?.usage;
      return {
        inputTokens: usage?.input_tokens,
        // message_start carries a placeholder output count; message_delta the real one.
        outputTokens: doc?.type === 'message_start' ? undefined : usage?.output_tokens,
      };
    },
  },
  {
    name: 'OpenAI Chat Completions',
    path: () => '/v1/chat/completions',
    body: (prompt, stream, tools) => ({
      model: 'demo-model',
      stream,
      ...(stream ? { stream_options: { include_usage: true } } : {}),
      tools: tools
        ? [{ type: 'function', function: { name: 'write_file', parameters: { type: 'object' } } }]
        : [],
      messages: [{ role: 'user', content: prompt }],
    }),
    figures: (doc) => ({
      inputTokens: doc?.usage?.prompt_tokens,
      outputTokens: doc?.usage?.completion_tokens,
    }),
  },
  {
    name: 'OpenAI Responses',
    path: () => '/v1/responses',
    body: (prompt, stream, tools) => ({
      model: 'gpt-demo',
      stream,
      tools: tools ? [{ type: 'function', name: 'exec_command', parameters: {} }] : [],
      input: [{ type: 'message', role: 'user', content: [{ type: 'input_text', text: prompt }] }],
    }),
    figures: (doc) => {
      const usage = doc?.usage ?? doc?.response?.usage;
      return { inputTokens: usage?.input_tokens, outputTokens: usage?.output_tokens };
    },
  },
  {
    name: 'Gemini',
    path: (stream) =>
      `/v1beta/models/gemini-demo:${stream ? 'streamGenerateContent?alt=sse' : 'generateContent'}`,
    body: (prompt, _stream, tools) => ({
      contents: [{ role: 'user', parts: [{ text: prompt }] }],
      tools: tools ? [{ functionDeclarations: [{ name: 'write_file', parameters: {} }] }] : [],
    }),
    figures: (doc) => ({
      inputTokens: doc?.usageMetadata?.promptTokenCount,
      outputTokens: doc?.usageMetadata?.candidatesTokenCount,
    }),
  },
];

/** The figures an answer reported: the last one seen for each field wins, as a meter reads. */
async function reported(wire: WireCall, res: Response): Promise<Partial<ReportedUsage>> {
  const text = await res.text();
  const docs = (res.headers.get('content-type') ?? '').includes('text/event-stream')
    ? text
        .split(/\r?\n/)
        .filter((line) => line.startsWith('data: ') && line !== 'data: [DONE]')
        .map((line) => JSON.parse(line.slice(6)))
    : [JSON.parse(text)];
  const out: Partial<ReportedUsage> = {};
  for (const doc of docs) {
    const { inputTokens, outputTokens } = wire.figures(doc);
    if (typeof inputTokens === 'number') out.inputTokens = inputTokens;
    if (typeof outputTokens === 'number') out.outputTokens = outputTokens;
  }
  return out;
}

async function call(
  wire: WireCall,
  prompt: string,
  opts: { stream: boolean; tools?: boolean },
): Promise<{ res: Response; record: RecordedRequest | undefined }> {
  const before = server.requests.length;
  const res = await fetch(`${server.url}${wire.path(opts.stream)}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: `Bearer ${KEY}`,
    },
    body: JSON.stringify(wire.body(prompt, opts.stream, opts.tools ?? true)),
  });
  return { res, record: server.requests[before] };
}

const WRITE_PROMPT = 'Add it.\n[[usage 60000 1000]]\n[[write a.txt]]\nA\n[[end]]';

describe('model server: [[usage]] reports exact figures', () => {
  for (const wire of WIRES) {
    for (const stream of [false, true]) {
      it(`${wire.name}, ${stream ? 'streamed' : 'one JSON document'}`, async () => {
        const { res, record } = await call(wire, WRITE_PROMPT, { stream });
        expect(res.status).toBe(200);
        expect(await reported(wire, res)).toEqual({ inputTokens: 60000, outputTokens: 1000 });
        expect(record?.turn?.prompt).toContain('[[usage 60000 1000]]');
        expect(record?.usage).toEqual({ inputTokens: 60000, outputTokens: 1000 });
      });
    }

    it(`${wire.name}: side requests carrying the prompt report them too`, async () => {
      const { res, record } = await call(wire, WRITE_PROMPT, { stream: false, tools: false });
      expect(await reported(wire, res)).toEqual({ inputTokens: 60000, outputTokens: 1000 });
      expect(record?.usage).toEqual({ inputTokens: 60000, outputTokens: 1000 });
    });

    it(`${wire.name}: without the directive, the estimate is reported and recorded`, async () => {
      const { res, record } = await call(wire, 'Add it.\n[[write a.txt]]\nA\n[[end]]', {
        stream: true,
      });
      const figures = await reported(wire, res);
      expect(figures.inputTokens).toBeGreaterThan(0);
      expect(figures.inputTokens).toBeLessThan(1000);
      expect(figures.outputTokens).toBeGreaterThan(0);
      expect(record?.usage).toEqual(figures);
    });
  }

  it('records no usage for errors, refusals and other endpoints', async () => {
    const wire = WIRES[0] as WireCall;
    const status = await call(wire, '[[usage 5 5]]\n[[status 500]]', { stream: false });
    expect(status.res.status).toBe(500);
    expect(status.record?.usage).toBeUndefined();

    const before = server.requests.length;
    const refused = await fetch(`${server.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': 'wrong' },
      body: JSON.stringify(wire.body('[[usage 5 5]]', false, true)),
    });
    expect(refused.status).toBe(401);
    const models = await fetch(`${server.url}/v1/models`, { headers: { 'x-api-key': KEY } });
    expect(models.status).toBe(200);
    expect(server.requests.slice(before).map((r) => r.usage)).toEqual([undefined, undefined]);
  });
});

describe('sumReportedUsage', () => {
  it('adds the figures of a slice of requests, skipping those without', async () => {
    const before = server.requests.length;
    const wire = WIRES[1] as WireCall;
    await (
      await call(wire, '[[usage 100 7]]\n[[write a]]\nA\n[[end]]', { stream: true })
    ).res.text();
    await (await call(wire, '[[usage 30 2]]', { stream: false })).res.text();
    await (await call(wire, '[[status 429]]', { stream: false })).res.text();
    const slice = server.requests.slice(before);
    expect(slice).toHaveLength(3);
    expect(sumReportedUsage(slice)).toEqual({ inputTokens: 130, outputTokens: 9 });
    expect(sumReportedUsage([])).toEqual({ inputTokens: 0, outputTokens: 0 });
  });
});

describe('parseDirectives: [[usage]]', () => {
  it('reads the two figures, alongside the other directives', () => {
    expect(parseDirectives('Go.\n  [[usage 200000 10000]]  \n[[hang]]')).toEqual({
      writes: [],
      steps: [],
      hang: true,
      usage: { inputTokens: 200000, outputTokens: 10000 },
    });
  });

  it('ignores malformed forms and usage lines inside blocks', () => {
    for (const prompt of [
      '[[usage 10]]',
      '[[usage ten 5]]',
      '[[usage -1 5]]',
      'say [[usage 1 2]] inline',
      '[[write a.txt]]\n[[usage 1 2]]\n[[end]]',
    ]) {
      expect(parseDirectives(prompt).usage, prompt).toBeUndefined();
    }
  });

  it('applies to a prompt that points at a file once the file was read', () => {
    const pointer = 'Your task is in the file `/w/prompt.md`. Read that file first, then do it.';
    const turn: ModelTurn = {
      wire: 'openai-chat',
      prompt: pointer,
      allText: pointer,
      tools: [],
      toolCalls: 0,
      toolResults: 0,
      stream: false,
    };
    expect(directedUsage(turn)).toBeUndefined();
    const read = `${pointer}\n     1→Do it.\n     2→[[usage 9 8]]`;
    expect(directedUsage({ ...turn, allText: read, toolCalls: 1, toolResults: 1 })).toEqual({
      inputTokens: 9,
      outputTokens: 8,
    });
  });
});
