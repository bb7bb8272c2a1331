/**
 * A scripted stand-in for the Anthropic Messages API on 127.0.0.1. The offline demo and the
 * tests point the real `claude` CLI at it (`ANTHROPIC_BASE_URL`), so a full agent run —
 * tool calls, file writes, API errors, a model that never answers — happens without a
 * network and without a real model.
 *
 * The answer to each request is decided from the request's content, never from a counter:
 * the CLI may send extra requests (title generation, retries), and a counter would drift.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { posix } from 'node:path';

/** One content block of a Messages API message, loosely typed: the CLI sends many kinds. */
export interface ContentBlock {
  type: string;
  text?: string;
  id?: string;
  name?: string;
  input?: unknown;
  tool_use_id?: string;
  content?: unknown;
  is_error?: boolean;
  [key: string]: unknown;
}

/** A message of the conversation. Claude Code also sends `role: "system"` messages. */
export interface Message {
  role: string;
  content: string | ContentBlock[];
}

/** The parsed body of `POST /v1/messages`; only the fields the scripts look at are typed. */
export interface MessagesRequest {
  model?: string;
  stream?: boolean;
  system?: string | ContentBlock[];
  messages?: Message[];
  tools?: Array<{ name: string; [key: string]: unknown }>;
  [key: string]: unknown;
}

/** What the scripted model does with one request. */
export type ModelReply =
  /** A final text answer (`stop_reason: end_turn`), optionally preceded by a thinking block. */
  | { type: 'text'; text: string; thinking?: string }
  /** One tool call (`stop_reason: tool_use`), optionally preceded by thinking and text. */
  | {
      type: 'tool_use';
      name: string;
      input: unknown;
      id?: string;
      text?: string;
      thinking?: string;
    }
  /** An HTTP error with Anthropic's error JSON; `errorType` defaults from the status. */
  | { type: 'error'; status: number; errorType?: string; message?: string }
  /** Accept the request and never answer (the connection stays open until close()). */
  | { type: 'hang' };

/** Decides the reply to one Messages request from its content. */
export type ModelScript = (request: MessagesRequest) => ModelReply | Promise<ModelReply>;

/** A request as the server saw it; credentials (`x-api-key`, `authorization`) are dropped. */
export interface RecordedRequest {
  method: string;
  /** The path without the query, e.g. `/v1/messages`. */
  path: string;
  /** The query string including `?`, or `''`. */
  query: string;
  headers: Record<string, string | string[] | undefined>;
  /** The JSON body when it parses, else the raw text (`''` when empty). */
  body: unknown;
}

/** Options of {@link startAnthropicModelServer}. */
export interface AnthropicModelServerOptions {
  /** When set, `x-api-key` or `Authorization: Bearer` must equal it, else 401. */
  apiKey?: string;
  /** The model's behaviour; defaults to the prompt-directed {@link defaultModelScript}. */
  script?: ModelScript;
  /** Interface to listen on; defaults to `127.0.0.1`. */
  host?: string;
}

/** A running model server. */
export interface AnthropicModelServer {
  /** `http://127.0.0.1:PORT`, to be used as `ANTHROPIC_BASE_URL`. */
  url: string;
  /** Every request received, in order. */
  requests: RecordedRequest[];
  /** Stops listening and ends every open connection, hanging ones included. */
  close(): Promise<void>;
}

/** Anthropic's error `type` for each HTTP status it uses. */
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

/** Default messages, as Anthropic words them where known. */
const ERROR_MESSAGES = new Map<string, string>([
  ['authentication_error', 'invalid x-api-key'],
  ['api_error', 'Internal server error'],
  ['overloaded_error', 'Overloaded'],
  ['rate_limit_error', 'Rate limited'],
  ['not_found_error', 'Not found'],
]);

/** The body Anthropic sends with an error status. */
function errorBody(status: number, errorType?: string, message?: string): string {
  const type =
    errorType ?? ERROR_TYPES.get(status) ?? (status >= 500 ? 'api_error' : 'invalid_request_error');
  return JSON.stringify({
    type: 'error',
    error: { type, message: message ?? ERROR_MESSAGES.get(type) ?? `HTTP ${status}` },
  });
}

/** All text of a message's content, blocks joined by newlines. */
function messageText(content: Message['content'] | undefined): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .filter((b) => b.type === 'text' && typeof b.text === 'string')
    .map((b) => b.text)
    .join('\n');
}

/**
 * The job prompt: the text of the first user message, without the `<system-reminder>`
 * sections Claude Code prepends (git status, CLAUDE.md, attribution) — those could
 * otherwise smuggle directives in from files of the checkout.
 */
export function promptText(request: MessagesRequest): string {
  const first = request.messages?.find((m) => m.role === 'user');
  return messageText(first?.content)
    .replace(/<system-reminder>[\s\S]*?<\/system-reminder>/g, '')
    .replace(/\r\n/g, '\n')
    .trim();
}

/** True when the request offers tools: the main agent loop, as opposed to side requests. */
export function offersTools(request: MessagesRequest): boolean {
  return Array.isArray(request.tools) && request.tools.length > 0;
}

/** How many tool calls the model already made in this conversation. */
export function toolUseCount(request: MessagesRequest): number {
  let count = 0;
  for (const m of request.messages ?? []) {
    if (m.role !== 'assistant' || !Array.isArray(m.content)) continue;
    count += m.content.filter((b) => b.type === 'tool_use').length;
  }
  return count;
}

/**
 * The working directory the CLI reports. Claude Code 2.1 writes
 * ` - Primary working directory: /abs/path` into an environment section, which it places in
 * a `role: "system"` message (or the system prompt, or the first user message with
 * `--exclude-dynamic-system-prompt-sections`): search all of them, the exact phrase first so
 * that a CLAUDE.md quoted earlier in the conversation cannot shadow it.
 */
export function workingDirectory(request: MessagesRequest): string | undefined {
  const texts: string[] = [];
  if (typeof request.system === 'string') texts.push(request.system);
  else if (Array.isArray(request.system)) texts.push(messageText(request.system));
  for (const m of request.messages ?? []) texts.push(messageText(m.content));
  for (const pattern of [
    /Primary working directory:\s*(\/[^\n]*)/,
    /Working directory:\s*(\/[^\n]*)/i,
  ]) {
    for (const text of texts) {
      const match = pattern.exec(text);
      if (match?.[1]) return match[1].trim();
    }
  }
  return undefined;
}

/** The directives of a prompt, see {@link defaultModelScript}. */
export interface PromptDirectives {
  writes: Array<{ path: string; content: string }>;
  /** Every tool step in prompt order: the writes and the `[[bash]]` commands. */
  steps: Array<
    { tool: 'Write'; path: string; content: string } | { tool: 'Bash'; command: string }
  >;
  answer?: string;
  hang: boolean;
  status?: number;
}

/** Parses the `[[…]]` directives of a prompt. Block contents are taken verbatim, line by line. */
export function parseDirectives(prompt: string): PromptDirectives {
  const directives: PromptDirectives = { writes: [], steps: [], hang: false };
  const lines = prompt.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] ?? '').trim();
    const write = /^\[\[write\s+(.+?)\]\]$/.exec(line);
    const answer = line === '[[answer]]';
    const bash = line === '[[bash]]';
    if (write || answer || bash) {
      const body: string[] = [];
      for (i++; i < lines.length && (lines[i] ?? '').trim() !== '[[end]]'; i++) {
        body.push(lines[i] ?? '');
      }
      if (write?.[1]) {
        // Each content line ends with a newline, as text files do.
        const file = { path: write[1], content: body.map((l) => `${l}\n`).join('') };
        directives.writes.push(file);
        directives.steps.push({ tool: 'Write', ...file });
      } else if (bash) {
        directives.steps.push({ tool: 'Bash', command: body.join('\n').trim() });
      } else {
        directives.answer = body.join('\n').trim();
      }
      continue;
    }
    if (line === '[[hang]]') directives.hang = true;
    const status = /^\[\[status\s+(\d{3})\]\]$/.exec(line);
    if (status?.[1]) directives.status = Number(status[1]);
  }
  return directives;
}

/**
 * The default, prompt-directed model. Requests that offer no tools (title generation and
 * other side requests) get a short plain text. Otherwise, from the job prompt:
 * - `[[status <code>]]`: answer with that HTTP status and Anthropic's error JSON;
 * - `[[hang]]`: never answer;
 * - `[[write <path>]]` … `[[end]]`: one `Write` tool call per block, in order, one per turn
 *   (the number of tool calls already in the history says which block is next); relative
 *   paths are resolved against the working directory the CLI reports;
 * - `[[bash]]` … `[[end]]`: one `Bash` tool call with that command, in prompt order with the
 *   writes;
 * - `[[answer]]` … `[[end]]`: the final text once all writes are done (default: a one-line
 *   summary of the files written, or "No changes were needed.").
 */
export const defaultModelScript: ModelScript = (request) => {
  if (!offersTools(request)) return { type: 'text', text: 'OK.' };
  const directives = parseDirectives(promptText(request));
  if (directives.status !== undefined) return { type: 'error', status: directives.status };
  if (directives.hang) return { type: 'hang' };
  const next = directives.steps[toolUseCount(request)];
  if (next?.tool === 'Bash') {
    return {
      type: 'tool_use',
      name: 'Bash',
      input: { command: next.command, description: 'Run a command' },
    };
  }
  if (next) {
    const cwd = workingDirectory(request);
    // Without a reported directory, pass the path on unchanged: Claude Code 2.1 resolves a
    // relative path against its own working directory, which is the checkout.
    const filePath = posix.isAbsolute(next.path) || !cwd ? next.path : posix.join(cwd, next.path);
    return {
      type: 'tool_use',
      name: 'Write',
      input: { file_path: filePath, content: next.content },
    };
  }
  if (directives.answer !== undefined) return { type: 'text', text: directives.answer };
  const paths = directives.writes.map((w) => w.path);
  return {
    type: 'text',
    text: paths.length === 0 ? 'No changes were needed.' : `Wrote ${paths.join(', ')}.`,
  };
};

/** A rough token count, so the usage figures in events look plausible and vary with input. */
function estimateTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

/** The content blocks of a reply, in the shape of a complete Messages API response. */
function replyBlocks(reply: ModelReply, toolId: string): ContentBlock[] {
  if (reply.type !== 'text' && reply.type !== 'tool_use') return [];
  const blocks: ContentBlock[] = [];
  // Anthropic signs thinking blocks; the CLI only passes the signature back, so any opaque
  // string will do.
  if (reply.thinking)
    blocks.push({ type: 'thinking', thinking: reply.thinking, signature: 'c2ln' });
  if (reply.type === 'text' || reply.text) blocks.push({ type: 'text', text: reply.text ?? '' });
  if (reply.type === 'tool_use') {
    blocks.push({ type: 'tool_use', id: reply.id ?? toolId, name: reply.name, input: reply.input });
  }
  return blocks;
}

/** Splits a string into a few chunks, as a real stream would deliver it. */
function chunks(text: string, size = 64): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out.length > 0 ? out : [''];
}

/** Writes a reply as the Messages API's server-sent events. */
function writeStream(
  res: ServerResponse,
  message: Record<string, unknown>,
  blocks: ContentBlock[],
) {
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

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    req.on('error', reject);
  });
}

function sendJson(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'application/json', 'request-id': `req_${status}` });
  res.end(body);
}

/** True when the request carries `apiKey` as `x-api-key` or as a Bearer token. */
function authorized(req: IncomingMessage, apiKey: string | undefined): boolean {
  if (apiKey === undefined) return true;
  if (req.headers['x-api-key'] === apiKey) return true;
  const auth = req.headers.authorization ?? '';
  return /^bearer\s+/i.test(auth) && auth.replace(/^bearer\s+/i, '') === apiKey;
}

/**
 * Starts the scripted Messages API server on an ephemeral port.
 *
 * Endpoints: `POST /v1/messages` (streaming or not; any query such as `?beta=true`),
 * `POST /v1/messages/count_tokens`, `GET /v1/models`, and `HEAD|GET /api/hello` (the
 * connectivity probe Claude Code sends at start). Anything else is a 404 with Anthropic's
 * error JSON.
 */
export async function startAnthropicModelServer(
  opts: AnthropicModelServerOptions = {},
): Promise<AnthropicModelServer> {
  const script = opts.script ?? defaultModelScript;
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();
  let messageCount = 0;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://model.invalid');
    const raw = await readBody(req);
    let body: unknown = raw;
    try {
      body = raw ? JSON.parse(raw) : '';
    } catch {
      // Not JSON: keep the raw text in the record; the endpoint decides what to do with it.
    }
    const { 'x-api-key': _key, authorization: _auth, ...headers } = req.headers;
    requests.push({
      method: req.method ?? 'GET',
      path: url.pathname,
      query: url.search,
      headers,
      body,
    });

    const path = url.pathname.replace(/\/+$/, '');
    if (path === '/api/hello') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(req.method === 'HEAD' ? undefined : 'hello');
      return;
    }
    if (path.startsWith('/v1/') && !authorized(req, opts.apiKey)) {
      sendJson(res, 401, errorBody(401));
      return;
    }
    if (req.method === 'GET' && path === '/v1/models') {
      const model = {
        type: 'model',
        id: 'claude-demo',
        display_name: 'Demo',
        created_at: '2026-01-01T00:00:00Z',
      };
      sendJson(
        res,
        200,
        JSON.stringify({ data: [model], has_more: false, first_id: model.id, last_id: model.id }),
      );
      return;
    }
    const isObject = typeof body === 'object' && body !== null && !Array.isArray(body);
    if (req.method === 'POST' && path === '/v1/messages/count_tokens') {
      sendJson(res, 200, JSON.stringify({ input_tokens: estimateTokens(raw) }));
      return;
    }
    if (req.method !== 'POST' || path !== '/v1/messages') {
      sendJson(
        res,
        404,
        errorBody(404, 'not_found_error', `Not found: ${req.method} ${url.pathname}`),
      );
      return;
    }
    if (!isObject) {
      sendJson(
        res,
        400,
        errorBody(400, 'invalid_request_error', 'Request body is not a JSON object'),
      );
      return;
    }

    const request = body as MessagesRequest;
    const reply = await script(request);
    if (reply.type === 'hang') return; // keep the socket open; close() destroys it
    if (reply.type === 'error') {
      sendJson(res, reply.status, errorBody(reply.status, reply.errorType, reply.message));
      return;
    }
    messageCount++;
    const blocks = replyBlocks(reply, `toolu_demo_${toolUseCount(request) + 1}`);
    const message = {
      id: `msg_demo_${messageCount}`,
      type: 'message',
      role: 'assistant',
      model: request.model ?? 'claude-demo',
      content: blocks,
      stop_reason: reply.type === 'tool_use' ? 'tool_use' : 'end_turn',
      stop_sequence: null,
      usage: {
        input_tokens: estimateTokens(raw),
        output_tokens: estimateTokens(JSON.stringify(blocks)),
        cache_read_input_tokens: 0,
        cache_creation_input_tokens: 0,
      },
    };
    if (request.stream) {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      writeStream(res, message, blocks);
    } else {
      sendJson(res, 200, JSON.stringify(message));
    }
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      // A throwing script is a test bug: answer 500 so the CLI fails visibly, never crash.
      if (!res.headersSent) sendJson(res, 500, errorBody(500, 'api_error', String(error)));
      else res.destroy();
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const urlHost = host.includes(':') ? `[${host}]` : host;

  let closed: Promise<void> | undefined;
  return {
    url: `http://${urlHost}:${port}`,
    requests,
    close() {
      // Idempotent: a test's cleanup may close a server the test already closed.
      closed ??= new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // Hanging requests and keep-alive sockets would keep close() waiting forever.
        for (const socket of sockets) socket.destroy();
      });
      return closed;
    },
  };
}
