/**
 * One model API wire format, as the scripted model server speaks it. Each wire decodes its
 * requests into a {@link ModelTurn} and writes the scripted reply in its own JSON or stream.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ModelTurn, WireName } from './scripted-model.js';
import type { ToolCall } from './tool-picker.js';

/** A reply ready for the wire: text and at most one tool call, already concrete. */
export interface WireReply {
  text?: string;
  thinking?: string;
  toolCall?: ToolCall & { id: string };
  /** Token figures to report (the wire's usage fields). */
  usage: { inputTokens: number; outputTokens: number };
}

export interface Wire {
  name: WireName;
  /** True when this wire serves the request (method and path without the query). */
  handles(method: string, path: string): boolean;
  /** The neutral view of a request body (already parsed JSON). */
  decode(body: Record<string, unknown>, path: string, query: URLSearchParams): ModelTurn;
  /** Writes a successful reply, streamed when the turn asked for a stream. */
  reply(res: ServerResponse, turn: ModelTurn, reply: WireReply): void;
  /** Writes an error status with the wire's error JSON. */
  error(res: ServerResponse, status: number, message: string): void;
  /** Other endpoints of this API the CLIs call (model lists, token counts); true if handled. */
  extra?(req: IncomingMessage, res: ServerResponse, path: string, rawBody: string): boolean;
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

/** Starts a server-sent-events answer. */
export function startSse(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
}
