/** Anthropic Messages (`POST /v1/messages`), as Claude Code (and Kimi's anthropic type) call it. */
import type { ServerResponse } from 'node:http';
import { chunks, estimateTokens, findWorkingDirectory, type ModelTurn } from '../scripted-model.js';
import { sendJson, startSse, type Wire, type WireReply } from '../wire.js';

type Block = Record<string, unknown> & { type?: string; text?: string };
type Message = { role?: string; content?: string | Block[] };

const ERROR_TYPES = new Map<number, string>([
  [400, 'invalid_request_error'],
  [401, 'authentication_error'],
  [403, 'permission_error'],
  [404, 'not_found_error'],
  [413, 'request_too_large'],
  [429, 'rate_limit_error'],
  [500, 'api_error'],
  [529, 'overloaded_error'],
]);

const DEFAULT_MESSAGES = new Map<number, string>([
  [401, 'invalid x-api-key'],
  [500, 'Internal server error'],
  [529, 'Overloaded'],
  [429, 'Rate limited'],
]);

function text(content: Message['content'] | undefined): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .filter((b) => b.type === 'text' && typeof b.text === 'string')
    .map((b) => b.text)
    .join('\n');
}

function countBlocks(messages: Message[], role: string, type: string): number {
  let count = 0;
  for (const m of messages) {
    if (m.role === role && Array.isArray(m.content))
      count += m.content.filter((b) => b.type === type).length;
  }
  return count;
}

function errorBody(status: number, message?: string) {
  const type = ERROR_TYPES.get(status) ?? (status >= 500 ? 'api_error' : 'invalid_request_error');
  return {
    type: 'error',
    error: { type, message: message ?? DEFAULT_MESSAGES.get(status) ?? `HTTP ${status}` },
  };
}

function blocksOf(reply: WireReply): Block[] {
  const blocks: Block[] = [];
  // Anthropic signs thinking blocks; the CLI only passes the signature back.
  if (reply.thinking)
    blocks.push({ type: 'thinking', thinking: reply.thinking, signature: 'c2ln' });
  if (reply.text !== undefined || !reply.toolCall)
    blocks.push({ type: 'text', text: reply.text ?? '' });
  if (reply.toolCall) {
    const { id, name, input } = reply.toolCall;
    blocks.push({ type: 'tool_use', id, name, input });
  }
  return blocks;
}

let messageCount = 0;

function writeStream(res: ServerResponse, message: Record<string, unknown>, blocks: Block[]) {
  const event = (type: string, data: Record<string, unknown>) =>
    res.write(`event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`);
  const usage = message.usage as { input_tokens: number; output_tokens: number };
  event('message_start', {
    message: { ...message, content: [], stop_reason: null, usage: { ...usage, output_tokens: 1 } },
  });
  blocks.forEach((block, index) => {
    if (block.type === 'tool_use') {
      // Tool input must arrive through input_json_delta: the CLI ignores a pre-filled input.
      event('content_block_start', { index, content_block: { ...block, input: {} } });
      for (const part of chunks(JSON.stringify(block.input ?? {}))) {
        event('content_block_delta', {
          index,
          delta: { type: 'input_json_delta', partial_json: part },
        });
      }
    } else if (block.type === 'thinking') {
      event('content_block_start', {
        index,
        content_block: { type: 'thinking', thinking: '', signature: '' },
      });
      event('content_block_delta', {
        index,
        delta: { type: 'thinking_delta', thinking: block.thinking },
      });
      event('content_block_delta', {
        index,
        delta: { type: 'signature_delta', signature: block.signature },
      });
    } else {
      event('content_block_start', { index, content_block: { type: 'text', text: '' } });
      for (const part of chunks(block.text ?? '')) {
        event('content_block_delta', { index, delta: { type: 'text_delta', text: part } });
      }
    }
    event('content_block_stop', { index });
  });
  event('message_delta', {
    delta: { stop_reason: message.stop_reason, stop_sequence: null },
    usage: { output_tokens: usage.output_tokens },
  });
  event('message_stop', {});
  res.end();
}

export const anthropicWire: Wire = {
  name: 'anthropic',
  handles: (method, path) => method === 'POST' && path === '/v1/messages',
  decode(body) {
    const messages = (Array.isArray(body.messages) ? body.messages : []) as Message[];
    const system = typeof body.system === 'string' ? body.system : text(body.system as Block[]);
    const texts = [system, ...messages.map((m) => text(m.content))];
    const first = messages.find((m) => m.role === 'user');
    const tools = (Array.isArray(body.tools) ? body.tools : []) as Array<Record<string, unknown>>;
    return {
      wire: 'anthropic',
      model: typeof body.model === 'string' ? body.model : undefined,
      // Claude Code prepends <system-reminder> sections (git status, CLAUDE.md): not the prompt.
      prompt: text(first?.content)
        .replace(/<system-reminder>[\s\S]*?<\/system-reminder>/g, '')
        .replace(/\r\n/g, '\n')
        .trim(),
      allText: texts.join('\n'),
      tools: tools.map((t) => ({
        name: String(t.name),
        parameters: t.input_schema as Record<string, unknown> | undefined,
      })),
      toolCalls: countBlocks(messages, 'assistant', 'tool_use'),
      toolResults: countBlocks(messages, 'user', 'tool_result'),
      cwd: findWorkingDirectory(texts),
      stream: body.stream === true,
    };
  },
  reply(res, turn: ModelTurn, reply) {
    messageCount++;
    const blocks = blocksOf(reply);
    const message = {
      id: `msg_demo_${messageCount}`,
      type: 'message',
      role: 'assistant',
      model: turn.model ?? 'claude-demo',
      content: blocks,
      stop_reason: reply.toolCall ? 'tool_use' : 'end_turn',
      stop_sequence: null,
      usage: {
        input_tokens: reply.usage.inputTokens,
        output_tokens: reply.usage.outputTokens,
        cache_read_input_tokens: 0,
        cache_creation_input_tokens: 0,
      },
    };
    if (!turn.stream) return sendJson(res, 200, message);
    startSse(res);
    writeStream(res, message, blocks);
  },
  error(res, status, message) {
    res.writeHead(status, { 'content-type': 'application/json', 'request-id': `req_${status}` });
    res.end(JSON.stringify(errorBody(status, message || undefined)));
  },
  extra(req, res, path, rawBody) {
    if (path === '/api/hello') {
      // The connectivity probe Claude Code sends at start.
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(req.method === 'HEAD' ? undefined : 'hello');
      return true;
    }
    if (req.method === 'POST' && path === '/v1/messages/count_tokens') {
      sendJson(res, 200, { input_tokens: estimateTokens(rawBody) });
      return true;
    }
    if (req.method === 'GET' && path === '/v1/models' && req.headers['anthropic-version']) {
      const model = {
        type: 'model',
        id: 'claude-demo',
        display_name: 'Demo',
        created_at: '2026-01-01T00:00:00Z',
      };
      sendJson(res, 200, { data: [model], has_more: false, first_id: model.id, last_id: model.id });
      return true;
    }
    return false;
  },
};
