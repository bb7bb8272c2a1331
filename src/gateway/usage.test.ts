import { describe, expect, it } from 'vitest';
import { JsonTap } from './json-tap.js';
import { type ModelApi, modelApiOf, UsageMeter } from './usage.js';

/** Meters an answer fed in chunks of `size` bytes. */
function meter(api: ModelApi, type: string, body: string, size: number) {
  const m = new UsageMeter(api, type);
  const bytes = Buffer.from(body);
  for (let i = 0; i < bytes.length; i += size) m.write(bytes.subarray(i, i + size));
  return m.finish();
}

const SSE = 'text/event-stream';
const JSON_TYPE = 'application/json';
const sse = (events: Array<[string, unknown]>, eol = '\n') =>
  events
    .map(([name, data]) => `event: ${name}${eol}data: ${JSON.stringify(data)}${eol}${eol}`)
    .join('');

const CASES: Array<{ name: string; api: ModelApi; type: string; body: string; want: unknown }> = [
  {
    name: 'Anthropic stream: message_start input and cache, cumulative message_delta output',
    api: 'anthropic',
    type: SSE,
    body: sse([
      [
        'message_start',
        {
          type: 'message_start',
          message: {
            id: 'm',
            content: [],
            usage: {
              input_tokens: 12,
              cache_creation_input_tokens: 100,
              cache_read_input_tokens: 2000,
              output_tokens: 1,
            },
          },
        },
      ],
      [
        'content_block_delta',
        {
          type: 'content_block_delta',
          delta: { type: 'text_delta', text: 'a "usage": {"output_tokens": 999} \\" ü 😀' },
        },
      ],
      ['message_delta', { type: 'message_delta', usage: { output_tokens: 40 } }],
      ['message_delta', { type: 'message_delta', usage: { output_tokens: 57 } }],
      ['message_stop', { type: 'message_stop' }],
    ]),
    want: { inputTokens: 12, outputTokens: 57, cacheReadTokens: 2000, cacheWriteTokens: 100 },
  },
  {
    name: 'Anthropic JSON answer',
    api: 'anthropic',
    type: JSON_TYPE,
    body: JSON.stringify({
      content: [{ type: 'text', text: 'usage' }],
      usage: { input_tokens: 3, output_tokens: 4, cache_read_input_tokens: 5 },
    }),
    want: { inputTokens: 3, outputTokens: 4, cacheReadTokens: 5, cacheWriteTokens: 0 },
  },
  {
    name: 'OpenAI Chat stream with the usage chunk and [DONE], CRLF lines',
    api: 'openai-chat',
    type: SSE,
    body: `data: ${JSON.stringify({ choices: [{ delta: { content: 'hi' } }], usage: null })}\r\n\r\ndata: ${JSON.stringify({ choices: [], usage: { prompt_tokens: 50, completion_tokens: 9, prompt_tokens_details: { cached_tokens: 20 } } })}\r\n\r\ndata: [DONE]\r\n\r\n`,
    want: { inputTokens: 30, outputTokens: 9, cacheReadTokens: 20, cacheWriteTokens: 0 },
  },
  {
    name: 'OpenAI Chat JSON answer',
    api: 'openai-chat',
    type: 'application/json; charset=utf-8',
    body: JSON.stringify({ choices: [], usage: { prompt_tokens: 8, completion_tokens: 2 } }),
    want: { inputTokens: 8, outputTokens: 2, cacheReadTokens: 0, cacheWriteTokens: 0 },
  },
  {
    name: 'Responses stream: response.created has usage null, response.completed the figures',
    api: 'openai-responses',
    type: SSE,
    body: sse([
      ['response.created', { type: 'response.created', response: { usage: null } }],
      ['response.output_text.delta', { type: 'response.output_text.delta', delta: 'x' }],
      [
        'response.completed',
        {
          type: 'response.completed',
          response: {
            output: [{ content: [{ text: 'y' }] }],
            usage: {
              input_tokens: 70,
              input_tokens_details: { cached_tokens: 64 },
              output_tokens: 5,
            },
          },
        },
      ],
    ]),
    want: { inputTokens: 6, outputTokens: 5, cacheReadTokens: 64, cacheWriteTokens: 0 },
  },
  {
    name: 'Gemini SSE stream: the last chunk holds the totals; thoughts are output',
    api: 'gemini',
    type: SSE,
    body: `data: ${JSON.stringify({ candidates: [], usageMetadata: { promptTokenCount: 10, candidatesTokenCount: 1 } })}\r\n\r\ndata: ${JSON.stringify({ candidates: [], usageMetadata: { promptTokenCount: 10, candidatesTokenCount: 6, thoughtsTokenCount: 4 } })}\r\n\r\n`,
    want: { inputTokens: 10, outputTokens: 10, cacheReadTokens: 0, cacheWriteTokens: 0 },
  },
  {
    name: 'Gemini JSON-array stream',
    api: 'gemini',
    type: JSON_TYPE,
    body: JSON.stringify([
      { candidates: [{ content: { parts: [{ text: 'a' }] } }] },
      {
        usageMetadata: {
          promptTokenCount: 11,
          candidatesTokenCount: 3,
          cachedContentTokenCount: 1,
        },
      },
    ]),
    want: { inputTokens: 10, outputTokens: 3, cacheReadTokens: 1, cacheWriteTokens: 0 },
  },
];

describe('usage tap', () => {
  for (const c of CASES) {
    it(`${c.name}, in any chunking`, () => {
      for (const size of [1, 2, 3, 7, 64, 1 << 20]) {
        expect(meter(c.api, c.type, c.body, size), `chunks of ${size}`).toEqual(c.want);
      }
    });
  }

  it('reports nothing for an answer without usage (an error)', () => {
    const body = JSON.stringify({ type: 'error', error: { type: 'overloaded_error' } });
    expect(meter('anthropic', JSON_TYPE, body, 5)).toBeUndefined();
  });

  it('knows which paths are model calls', () => {
    expect(modelApiOf('POST', '/v1/messages')).toBe('anthropic');
    expect(modelApiOf('POST', '/v1/messages/count_tokens')).toBeUndefined();
    expect(modelApiOf('GET', '/v1/models')).toBeUndefined();
    expect(modelApiOf('POST', '/openai/v1/chat/completions')).toBe('openai-chat');
    expect(modelApiOf('POST', '/v1/responses')).toBe('openai-responses');
    // Codex's compaction is metered (and held under a budget) like any model call.
    expect(modelApiOf('POST', '/v1/responses/compact')).toBe('openai-responses');
    expect(modelApiOf('POST', '/v1beta/models/g:streamGenerateContent')).toBe('gemini');
    expect(modelApiOf('POST', '/v1beta/models/g:generateContent')).toBe('gemini');
    expect(modelApiOf('POST', '/v1beta/models/g:countTokens')).toBeUndefined();
  });

  it('keeps only the start of long strings', () => {
    const seen: Array<[string, unknown]> = [];
    const tap = new JsonTap((path, value) => seen.push([path, value]));
    tap.write(Buffer.from(`{"a":"${'z'.repeat(100_000)}","b":[1,{"c":-2.5e1}],"d":true}`));
    tap.end();
    expect(seen).toEqual([
      ['a', 'z'.repeat(64)],
      ['b.[]', 1],
      ['b.[].c', -25],
      ['d', true],
    ]);
  });
});
