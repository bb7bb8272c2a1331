/**
 * OpenAI Chat Completions (`POST …/chat/completions`), as Qwen Code, OpenCode and Kimi Code
 * call it: streamed `chat.completion.chunk`s with `tool_calls` deltas, then `[DONE]`.
 */
import type { ServerResponse } from 'node:http';
import { chunks, findWorkingDirectory, type ModelTurn } from '../scripted-model.js';
import { sendJson, startSse, type Wire, type WireReply } from '../wire.js';

type Part = { type?: string; text?: string };
type ChatMessage = {
  role?: string;
  content?: string | Part[] | null;
  tool_calls?: unknown[];
};

function text(content: ChatMessage['content']): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .filter((p) => typeof p.text === 'string')
    .map((p) => p.text)
    .join('\n');
}

let completionCount = 0;

/** OpenAI's error `type`/`code` for the statuses the tests use. */
function errorBody(status: number, message: string) {
  const [type, code] =
    status === 401
      ? ['invalid_request_error', 'invalid_api_key']
      : status === 429
        ? ['rate_limit_exceeded', 'rate_limit_exceeded']
        : status >= 500
          ? ['server_error', null]
          : ['invalid_request_error', null];
  const fallback =
    status === 401
      ? 'Incorrect API key provided. You can find your API key in your account settings.'
      : `HTTP ${status}`;
  return { error: { message: message || fallback, type, param: null, code } };
}

export const openAiChatWire: Wire = {
  name: 'openai-chat',
  handles: (method, path) => method === 'POST' && path.endsWith('/chat/completions'),
  decode(body) {
    const messages = (Array.isArray(body.messages) ? body.messages : []) as ChatMessage[];
    const texts = messages.map((m) => text(m.content));
    const tools = (Array.isArray(body.tools) ? body.tools : []) as Array<{
      function?: { name?: string; parameters?: Record<string, unknown> };
    }>;
    return {
      wire: 'openai-chat',
      model: typeof body.model === 'string' ? body.model : undefined,
      prompt: messages
        .filter((m) => m.role === 'user')
        .map((m) => text(m.content))
        .join('\n')
        .replace(/\r\n/g, '\n'),
      allText: texts.join('\n'),
      tools: tools
        .filter((t) => typeof t.function?.name === 'string')
        .map((t) => ({ name: String(t.function?.name), parameters: t.function?.parameters })),
      toolCalls: messages
        .filter((m) => m.role === 'assistant')
        .reduce((n, m) => n + (Array.isArray(m.tool_calls) ? m.tool_calls.length : 0), 0),
      toolResults: messages.filter((m) => m.role === 'tool').length,
      cwd: findWorkingDirectory(texts),
      stream: body.stream === true,
      includeUsage:
        (body.stream_options as { include_usage?: boolean } | undefined)?.include_usage === true,
    } as ModelTurn;
  },
  reply(res: ServerResponse, turn: ModelTurn, reply: WireReply) {
    completionCount++;
    const id = `chatcmpl-demo-${completionCount}`;
    const created = Math.floor(Date.now() / 1000);
    const model = turn.model ?? 'demo-model';
    const usage = {
      prompt_tokens: reply.usage.inputTokens,
      completion_tokens: reply.usage.outputTokens,
      total_tokens: reply.usage.inputTokens + reply.usage.outputTokens,
    };
    const finish = reply.toolCall ? 'tool_calls' : 'stop';
    const call = reply.toolCall;
    if (!turn.stream) {
      sendJson(res, 200, {
        id,
        object: 'chat.completion',
        created,
        model,
        choices: [
          {
            index: 0,
            message: {
              role: 'assistant',
              content: reply.text ?? (call ? null : ''),
              ...(reply.thinking ? { reasoning_content: reply.thinking } : {}),
              ...(call
                ? {
                    tool_calls: [
                      {
                        id: call.id,
                        type: 'function',
                        function: { name: call.name, arguments: JSON.stringify(call.input) },
                      },
                    ],
                  }
                : {}),
            },
            finish_reason: finish,
          },
        ],
        usage,
      });
      return;
    }
    startSse(res);
    const chunk = (
      delta: Record<string, unknown>,
      finishReason: string | null = null,
      extra = {},
    ) =>
      res.write(
        `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices: [{ index: 0, delta, finish_reason: finishReason }], ...extra })}\n\n`,
      );
    chunk({ role: 'assistant', content: '' });
    if (reply.thinking) chunk({ reasoning_content: reply.thinking });
    for (const part of reply.text ? chunks(reply.text) : []) chunk({ content: part });
    if (call) {
      chunk({
        tool_calls: [
          { index: 0, id: call.id, type: 'function', function: { name: call.name, arguments: '' } },
        ],
      });
      for (const part of chunks(JSON.stringify(call.input))) {
        chunk({ tool_calls: [{ index: 0, function: { arguments: part } }] });
      }
    }
    const includeUsage = (turn as ModelTurn & { includeUsage?: boolean }).includeUsage;
    // Asked for: a usage chunk with no choices, as OpenAI sends it; otherwise usage rides on
    // the last chunk, as several compatible providers send it.
    chunk({}, finish, includeUsage ? {} : { usage });
    if (includeUsage)
      res.write(
        `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices: [], usage })}\n\n`,
      );
    res.write('data: [DONE]\n\n');
    res.end();
  },
  error(res, status, message) {
    sendJson(res, status, errorBody(status, message));
  },
  extra(req, res, path) {
    if (req.method === 'GET' && path.endsWith('/models') && !req.headers['anthropic-version']) {
      sendJson(res, 200, {
        object: 'list',
        data: [{ id: 'demo-model', object: 'model', created: 1767225600, owned_by: 'viberator' }],
      });
      return true;
    }
    return false;
  },
};
