import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ModelServer, startModelServer } from '../model-server.js';

const KEY = 'sk-demo';
let server: ModelServer;

beforeAll(async () => {
  server = await startModelServer({ apiKey: KEY });
});
afterAll(async () => server?.close());

const EXEC_COMMAND = {
  type: 'function',
  name: 'exec_command',
  parameters: {
    type: 'object',
    properties: { cmd: { type: 'string' }, workdir: { type: 'string' } },
    required: ['cmd'],
  },
};
const APPLY_PATCH = { type: 'custom', name: 'apply_patch', format: { type: 'grammar' } };

/** A request as Codex sends it: developer text, context parts, the prompt, the history. */
function body(prompt: string, history: unknown[] = [], extra: Record<string, unknown> = {}) {
  return {
    model: 'gpt-5.5',
    instructions: '',
    stream: true,
    input: [
      {
        type: 'message',
        role: 'developer',
        content: [{ type: 'input_text', text: 'You are Codex.' }],
      },
      {
        type: 'message',
        role: 'user',
        content: [
          {
            type: 'input_text',
            text: '# AGENTS.md instructions\n\n<INSTRUCTIONS>\n# Rules MARK-7\n</INSTRUCTIONS>',
          },
          {
            type: 'input_text',
            text: '<environment_context>\n  <cwd>/work/repo</cwd>\n</environment_context>',
          },
        ],
      },
      { type: 'message', role: 'user', content: [{ type: 'input_text', text: prompt }] },
      ...history,
    ],
    tools: [
      EXEC_COMMAND,
      APPLY_PATCH,
      { type: 'namespace', name: 'agents', tools: [{ type: 'function', name: 'spawn' }] },
      { type: 'web_search' },
    ],
    ...extra,
  };
}

async function post(payload: unknown, key = KEY) {
  return fetch(`${server.url}/v1/responses`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify(payload),
  });
}

/** The `event:` names and `data:` objects of a server-sent-events body. */
function events(text: string): Array<{ event: string; data: Record<string, any> }> {
  return text
    .split('\n\n')
    .filter((block) => block.trim() !== '')
    .map((block) => {
      const event = /^event: (.+)$/m.exec(block)?.[1] ?? '';
      const data = JSON.parse(/^data: (.+)$/m.exec(block)?.[1] ?? 'null');
      return { event, data };
    });
}

describe('OpenAI Responses wire', () => {
  it('decodes the prompt without context parts, the tools, the cwd and the history', async () => {
    const before = server.requests.length;
    await (
      await post(
        body('Do it.\n[[bash]]\nls\n[[end]]', [
          { type: 'function_call', call_id: 'c1', name: 'exec_command', arguments: '{}' },
          { type: 'function_call_output', call_id: 'c1', output: 'ok' },
          { type: 'custom_tool_call', call_id: 'c2', name: 'apply_patch', input: '*** Begin' },
          { type: 'custom_tool_call_output', call_id: 'c2', output: 'done' },
          { type: 'reasoning', summary: [] },
        ]),
      )
    ).text();
    const turn = server.requests[before]?.turn;
    expect(turn).toMatchObject({
      wire: 'openai-responses',
      model: 'gpt-5.5',
      prompt: 'Do it.\n[[bash]]\nls\n[[end]]',
      cwd: '/work/repo',
      toolCalls: 2,
      toolResults: 2,
      stream: true,
    });
    expect(turn?.allText).toContain('MARK-7');
    expect(turn?.allText).toContain('You are Codex.');
    expect(turn?.tools.map((t) => [t.name, t.freeform === true])).toEqual([
      ['exec_command', false],
      ['apply_patch', true],
      ['spawn', false],
    ]);
  });

  it('streams a function call: added, argument deltas, done, completed with usage', async () => {
    const res = await post(body('Run.\n[[bash]]\nnpm test\n[[end]]'));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const stream = events(await res.text());
    const names = stream.map((e) => e.event);
    expect(names[0]).toBe('response.created');
    expect(names.at(-1)).toBe('response.completed');
    expect(names).toEqual(
      expect.arrayContaining([
        'response.output_item.added',
        'response.function_call_arguments.delta',
        'response.function_call_arguments.done',
        'response.output_item.done',
      ]),
    );
    for (const e of stream) expect(e.data.type).toBe(e.event);
    const deltas = stream
      .filter((e) => e.event === 'response.function_call_arguments.delta')
      .map((e) => e.data.delta)
      .join('');
    expect(JSON.parse(deltas)).toEqual({ cmd: 'npm test' });
    const done = stream.find((e) => e.event === 'response.output_item.done')?.data.item;
    expect(done).toMatchObject({
      type: 'function_call',
      name: 'exec_command',
      call_id: 'call_demo_1',
      arguments: deltas,
    });
    const completed = stream.at(-1)?.data.response;
    expect(completed.status).toBe('completed');
    expect(completed.usage.input_tokens).toBeGreaterThan(0);
    expect(completed.usage.output_tokens).toBeGreaterThan(0);
    expect(completed.output).toEqual([done]);
  });

  it('writes a file through the freeform apply_patch tool as a custom tool call', async () => {
    const stream = events(
      await (await post(body('Write.\n[[write src/a.js]]\nexport const a = 1;\n[[end]]'))).text(),
    );
    const deltas = stream
      .filter((e) => e.event === 'response.custom_tool_call_input.delta')
      .map((e) => e.data.delta)
      .join('');
    const patch = [
      '*** Begin Patch',
      '*** Add File: /work/repo/src/a.js',
      '+export const a = 1;',
      '*** End Patch',
    ].join('\n');
    expect(deltas).toBe(patch);
    expect(stream.find((e) => e.event === 'response.output_item.done')?.data.item).toMatchObject({
      type: 'custom_tool_call',
      name: 'apply_patch',
      input: patch,
    });
  });

  it('streams a final text as a message with output_text deltas', async () => {
    const history = [
      { type: 'function_call', call_id: 'c1', name: 'exec_command', arguments: '{}' },
      { type: 'function_call_output', call_id: 'c1', output: 'ok' },
    ];
    const stream = events(
      await (
        await post(body('Run.\n[[bash]]\nls\n[[end]]\n[[answer]]\nAll good.\n[[end]]', history))
      ).text(),
    );
    const text = stream
      .filter((e) => e.event === 'response.output_text.delta')
      .map((e) => e.data.delta)
      .join('');
    expect(text).toBe('All good.');
    expect(stream.find((e) => e.event === 'response.output_item.done')?.data.item).toMatchObject({
      type: 'message',
      role: 'assistant',
      content: [{ type: 'output_text', text: 'All good.' }],
    });
  });

  it('answers a request without stream as one response object', async () => {
    const res = await post(body('Hello?', [], { stream: false, tools: [] }));
    expect(res.headers.get('content-type')).toBe('application/json');
    const json = (await res.json()) as Record<string, any>;
    expect(json).toMatchObject({
      object: 'response',
      status: 'completed',
      output_text: 'OK.',
      output: [{ type: 'message', content: [{ type: 'output_text', text: 'OK.' }] }],
    });
    expect(json.usage.total_tokens).toBe(json.usage.input_tokens + json.usage.output_tokens);
  });

  it("answers errors with OpenAI's error JSON", async () => {
    const unauthorized = await post(body('Hi.'), 'sk-wrong');
    expect(unauthorized.status).toBe(401);
    expect(await unauthorized.json()).toEqual({
      error: {
        message: expect.stringContaining('Incorrect API key'),
        type: 'invalid_request_error',
        param: null,
        code: 'invalid_api_key',
      },
    });
    const failing = await post(body('Fail.\n[[status 500]]'));
    expect(failing.status).toBe(500);
    expect(((await failing.json()) as { error: { type: string } }).error.type).toBe('server_error');
  });
});
