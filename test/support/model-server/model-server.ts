/**
 * A scripted model server on 127.0.0.1 that speaks the four wire formats the agent CLIs use:
 * Anthropic Messages, OpenAI Chat Completions, OpenAI Responses and Gemini
 * `streamGenerateContent`. The tests and the offline demo point real CLIs at it, so a full
 * agent run — tool calls, file writes, API errors, a model that never answers — happens
 * without a network and without a real model. Every wire shares one script
 * ({@link defaultModelScript} unless a test gives its own).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import {
  defaultModelScript,
  directedUsage,
  estimateTokens,
  type ModelScript,
  type ModelTurn,
} from './scripted-model.js';
import { pickToolCall } from './tool-picker.js';
import type { Wire } from './wire.js';
import { anthropicWire } from './wires/anthropic.js';
import { geminiWire } from './wires/gemini.js';
import { openAiChatWire } from './wires/openai-chat.js';
import { openAiResponsesWire } from './wires/openai-responses.js';

/** Every wire, tried in order. */
const WIRES: Wire[] = [anthropicWire, openAiChatWire, openAiResponsesWire, geminiWire];

/** A request as the server saw it; credentials are dropped. */
export interface RecordedRequest {
  method: string;
  /** The path without the query, e.g. `/v1/messages`. */
  path: string;
  /** The query string including `?` (without a `key=`), or `''`. */
  query: string;
  headers: Record<string, string | string[] | undefined>;
  /** The JSON body when it parses, else the raw text (`''` when empty). */
  body: unknown;
  /** The neutral view of a model request, when it was one. */
  turn?: ModelTurn;
  /** The token figures the answer reported, when the server answered a model request. */
  usage?: ReportedUsage;
}

/** Token figures as the server reports them: `inputTokens` is the whole prompt. */
export interface ReportedUsage {
  inputTokens: number;
  outputTokens: number;
}

/** The usage the server reported over some requests (e.g. `requests.slice(before)`). */
export function sumReportedUsage(requests: readonly RecordedRequest[]): ReportedUsage {
  const total: ReportedUsage = { inputTokens: 0, outputTokens: 0 };
  for (const r of requests) {
    total.inputTokens += r.usage?.inputTokens ?? 0;
    total.outputTokens += r.usage?.outputTokens ?? 0;
  }
  return total;
}

export interface ModelServerOptions {
  /** When set, the key must come as `x-api-key`, a Bearer token, `x-goog-api-key` or `?key=`. */
  apiKey?: string;
  script?: ModelScript;
  /** Interface to listen on; defaults to `127.0.0.1`. */
  host?: string;
}

export interface ModelServer {
  /** `http://127.0.0.1:PORT`. */
  url: string;
  /** Every request received, in order. */
  requests: RecordedRequest[];
  /** Stops listening and ends every open connection, hanging ones included. */
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    req.on('error', reject);
  });
}

/** The key a request carries, in whichever of the four APIs' forms. */
function presentedKey(req: IncomingMessage, query: URLSearchParams): string | undefined {
  const header = (name: string) => {
    const value = req.headers[name];
    return Array.isArray(value) ? value[0] : value;
  };
  const bearer = /^bearer\s+(.+)$/i.exec(header('authorization') ?? '')?.[1];
  return header('x-api-key') ?? bearer ?? header('x-goog-api-key') ?? query.get('key') ?? undefined;
}

export async function startModelServer(opts: ModelServerOptions = {}): Promise<ModelServer> {
  const script = opts.script ?? defaultModelScript;
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://model.invalid');
    const raw = await readBody(req);
    let body: unknown = raw;
    try {
      body = raw ? JSON.parse(raw) : '';
    } catch {
      // Not JSON: keep the raw text in the record; the endpoint decides what to do with it.
    }
    const { 'x-api-key': _k, authorization: _a, 'x-goog-api-key': _g, ...headers } = req.headers;
    const query = new URLSearchParams(url.search);
    const shownQuery = new URLSearchParams(query);
    shownQuery.delete('key');
    const record: RecordedRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: shownQuery.size > 0 ? `?${shownQuery}` : '',
      headers,
      body,
    };
    requests.push(record);

    const path = url.pathname.replace(/\/+$/, '');
    const method = req.method ?? 'GET';
    const wire = WIRES.find((w) => w.handles(method, path));
    const authorized = opts.apiKey === undefined || presentedKey(req, query) === opts.apiKey;
    if (!wire) {
      if (WIRES.some((w) => w.extra?.(req, res, path, raw))) return;
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({ error: { message: `Not found: ${method} ${url.pathname}`, code: 404 } }),
      );
      return;
    }
    if (!authorized) return wire.error(res, 401, '');
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      return wire.error(res, 400, 'Request body is not a JSON object');
    }
    const turn = wire.decode(body as Record<string, unknown>, path, query);
    record.turn = turn;
    const reply = await script(turn);
    if (reply.type === 'hang') return; // keep the socket open; close() destroys it
    if (reply.type === 'error') return wire.error(res, reply.status, reply.message ?? '');
    const call =
      reply.type === 'tool_call'
        ? {
            ...pickToolCall(reply.intent, turn),
            id:
              reply.id ??
              `${wire.name === 'anthropic' ? 'toolu' : 'call'}_demo_${turn.toolCalls + 1}`,
          }
        : undefined;
    const outText = reply.text ?? '';
    const usage = directedUsage(turn) ?? {
      inputTokens: estimateTokens(raw),
      outputTokens: estimateTokens(outText + JSON.stringify(call ?? '')),
    };
    record.usage = { ...usage };
    wire.reply(res, turn, {
      text: reply.type === 'text' ? reply.text : reply.text,
      thinking: reply.thinking,
      toolCall: call,
      usage,
    });
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      // A throwing script is a test bug: answer 500 so the CLI fails visibly, never crash.
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: String(error) } }));
      } else res.destroy();
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
      closed ??= new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        for (const socket of sockets) socket.destroy();
      });
      return closed;
    },
  };
}
