import { afterEach, describe, expect, it } from 'vitest';
import { type ModelServer, startModelServer } from '../model-server.js';
import type { ModelScript } from '../scripted-model.js';
import { sampleOf } from './gemini.js';

const KEY = 'gm-test-key';
let server: ModelServer;

afterEach(async () => {
  await server?.close();
});

const WRITE_FILE = {
  name: 'write_file',
  description: 'Writes a file.',
  parametersJsonSchema: {
    type: 'object',
    properties: { file_path: { type: 'string' }, content: { type: 'string' } },
    required: ['file_path', 'content'],
  },
};
const SHELL = {
  name: 'run_shell_command',
  description: 'Runs a command.',
  parameters: { type: 'OBJECT', properties: { command: { type: 'STRING' } } },
};

/** A request body as Gemini CLI sends it: session context and prompt in the first turn. */
function body(prompt: string, history: unknown[] = [], tools = [WRITE_FILE, SHELL]) {
  return {
    contents: [
      {
        role: 'user',
        parts: [
          {
            text: '<session_context>\nThis is the Gemini CLI.\n- **Workspace Directories:**\n  - /repo\n</session_context>',
          },
          { text: prompt },
        ],
      },
      ...history,
    ],
    systemInstruction: { role: 'user', parts: [{ text: 'You are an agent. Rule MARK-7.' }] },
    tools: tools.length > 0 ? [{ functionDeclarations: tools }] : undefined,
    generationConfig: { temperature: 1 },
  };
}

function call(path: string, payload: unknown, key = KEY): Promise<Response> {
  return fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-goog-api-key': key },
    body: JSON.stringify(payload),
  });
}

/** The `data:` payloads of a server-sent-events answer. */
async function events(res: Response): Promise<any[]> {
  const text = await res.text();
  return text
    .split(/\r?\n\r?\n/)
    .filter((block) => block.startsWith('data: '))
    .map((block) => JSON.parse(block.slice('data: '.length)));
}

const STREAM = '/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse';
const WRITE_PROMPT = 'Add it.\n[[write hello.txt]]\nHello\n[[end]]\n[[answer]]\nDone.\n[[end]]';

describe('Gemini wire', () => {
  it('streams a function call for a write, and decodes the request', async () => {
    server = await startModelServer({ apiKey: KEY });
    const res = await call(STREAM, body(WRITE_PROMPT));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const chunks = await events(res);
    const last = chunks.at(-1);
    expect(last.candidates[0].finishReason).toBe('STOP');
    expect(last.candidates[0].content).toEqual({
      role: 'model',
      parts: [
        {
          functionCall: {
            id: 'call_demo_1',
            name: 'write_file',
            args: { file_path: 'hello.txt', content: 'Hello\n' },
          },
        },
      ],
    });
    expect(last.usageMetadata.promptTokenCount).toBeGreaterThan(0);
    expect(last.usageMetadata.totalTokenCount).toBe(
      last.usageMetadata.promptTokenCount + last.usageMetadata.candidatesTokenCount,
    );

    const request = server.requests[0];
    expect(request?.path).toBe('/v1beta/models/gemini-2.5-pro:streamGenerateContent');
    expect(request?.query).toBe('?alt=sse');
    expect(request?.headers).not.toHaveProperty('x-goog-api-key');
    expect(request?.turn).toMatchObject({
      wire: 'gemini',
      model: 'gemini-2.5-pro',
      prompt: WRITE_PROMPT,
      toolCalls: 0,
      toolResults: 0,
      stream: true,
    });
    expect(request?.turn?.allText).toContain('MARK-7');
    expect(request?.turn?.tools.map((t) => t.name)).toEqual(['write_file', 'run_shell_command']);
    // parametersJsonSchema and parameters both count as the tool's schema.
    expect(request?.turn?.tools[1]?.parameters).toEqual(SHELL.parameters);
  });

  it('counts the calls and results in the history and then answers in text chunks', async () => {
    server = await startModelServer({ apiKey: KEY });
    const history = [
      {
        role: 'model',
        parts: [{ functionCall: { id: 'c1', name: 'write_file', args: {} } }],
      },
      {
        role: 'user',
        parts: [{ functionResponse: { id: 'c1', name: 'write_file', response: { output: 'ok' } } }],
      },
    ];
    const res = await call(STREAM, body(WRITE_PROMPT, history));
    const chunks = await events(res);
    const text = chunks
      .flatMap((c) => c.candidates[0].content.parts)
      .map((p: { text?: string }) => p.text ?? '')
      .join('');
    expect(text).toBe('Done.');
    expect(server.requests[0]?.turn).toMatchObject({ toolCalls: 1, toolResults: 1 });
    // The tool result turn is not part of the prompt.
    expect(server.requests[0]?.turn?.prompt).toBe(WRITE_PROMPT);
  });

  it('runs shell commands through run_shell_command', async () => {
    server = await startModelServer({ apiKey: KEY });
    const res = await call(STREAM, body('List.\n[[bash]]\nls -la\n[[end]]'));
    const part = (await events(res)).at(-1).candidates[0].content.parts[0];
    expect(part.functionCall).toMatchObject({
      name: 'run_shell_command',
      args: { command: 'ls -la' },
    });
  });

  it('streams thinking as thought parts', async () => {
    const script: ModelScript = () => ({ type: 'text', text: 'Answer.', thinking: 'Hmm.' });
    server = await startModelServer({ apiKey: KEY, script });
    const chunks = await events(await call(STREAM, body('Q?')));
    const parts = chunks.flatMap((c) => c.candidates[0].content.parts);
    expect(parts[0]).toEqual({ text: 'Hmm.', thought: true });
    expect(
      parts
        .filter((p: { thought?: boolean }) => !p.thought)
        .map((p: { text: string }) => p.text)
        .join(''),
    ).toBe('Answer.');
  });

  it('answers generateContent in one JSON, and in JSON when the request asks for a schema', async () => {
    server = await startModelServer({ apiKey: KEY });
    const plain = await call(
      '/v1beta/models/gemini-2.5-flash:generateContent',
      body('Title?', [], []),
    );
    expect(plain.status).toBe(200);
    const json = (await plain.json()) as any;
    expect(json.candidates[0].content.parts).toEqual([{ text: 'OK.' }]);
    expect(json.candidates[0].finishReason).toBe('STOP');
    expect(server.requests[0]?.turn).toMatchObject({ stream: false, model: 'gemini-2.5-flash' });

    const schema = {
      type: 'OBJECT',
      properties: {
        complexity_reasoning: { type: 'STRING' },
        complexity_score: { type: 'INTEGER' },
        model_choice: { type: 'STRING', enum: ['flash', 'pro'] },
      },
    };
    const routed = await call('/v1beta/models/gemini-2.5-flash-lite:generateContent', {
      ...body('Route me', [], []),
      generationConfig: { responseMimeType: 'application/json', responseJsonSchema: schema },
    });
    const answer = JSON.parse(((await routed.json()) as any).candidates[0].content.parts[0].text);
    expect(answer).toEqual({
      complexity_reasoning: 'OK',
      complexity_score: 1,
      model_choice: 'flash',
    });
  });

  it("answers errors in Google's error JSON: a wrong key and a scripted status", async () => {
    server = await startModelServer({ apiKey: KEY });
    const denied = await call(STREAM, body('Hi'), 'wrong');
    expect(denied.status).toBe(401);
    expect((await denied.json()) as any).toEqual({
      error: {
        code: 401,
        message: 'API key not valid. Please pass a valid API key.',
        status: 'UNAUTHENTICATED',
      },
    });
    const failed = await call(STREAM, body('Fail.\n[[status 500]]'));
    expect(failed.status).toBe(500);
    expect(((await failed.json()) as any).error).toMatchObject({ code: 500, status: 'INTERNAL' });
  });

  it('counts tokens and leaves other paths alone', async () => {
    server = await startModelServer({ apiKey: KEY });
    const counted = await call('/v1beta/models/gemini-2.5-pro:countTokens', body('Hi'));
    expect(((await counted.json()) as any).totalTokens).toBeGreaterThan(0);
    const other = await call('/v1beta/models/gemini-2.5-pro:embedContent', body('Hi'));
    expect(other.status).toBe(404);
  });
});

describe('sampleOf', () => {
  it('fills a schema with small values, in either type spelling', () => {
    expect(
      sampleOf({
        type: 'object',
        properties: {
          a: { type: 'string' },
          b: { type: 'NUMBER', minimum: 5 },
          c: { type: 'BOOLEAN' },
          d: { type: 'array' },
          e: { type: 'object', properties: { f: { enum: ['x'] } } },
        },
      }),
    ).toEqual({ a: 'OK', b: 5, c: false, d: [], e: { f: 'x' } });
  });
});
