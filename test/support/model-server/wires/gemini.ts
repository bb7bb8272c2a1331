/**
 * Google's Gemini API (`POST /v1beta/models/{model}:streamGenerateContent?alt=sse` and
 * `:generateContent`), as Gemini CLI calls it: `contents` of `user`/`model` turns whose parts
 * are text, `functionCall` or `functionResponse`, a `systemInstruction`, and
 * `tools[].functionDeclarations`. Streamed answers are server-sent events, each `data:` a
 * whole GenerateContentResponse; errors are Google's `{"error":{code,message,status}}`.
 */
import { chunks, estimateTokens, findWorkingDirectory, type ModelTurn } from '../scripted-model.js';
import { sendJson, startSse, type Wire, type WireReply } from '../wire.js';

type Part = Record<string, unknown> & { text?: unknown; thought?: unknown };
type Content = { role?: string; parts?: Part[] };

/** `/v1beta/models/gemini-2.5-pro:streamGenerateContent` → the model and the method. */
const MODEL_PATH = /\/models\/([^/:]+):([A-Za-z]+)$/;

/** Google's canonical status names for the HTTP statuses the tests use. */
const STATUS_NAMES = new Map<number, string>([
  [400, 'INVALID_ARGUMENT'],
  [401, 'UNAUTHENTICATED'],
  [403, 'PERMISSION_DENIED'],
  [404, 'NOT_FOUND'],
  [429, 'RESOURCE_EXHAUSTED'],
  [500, 'INTERNAL'],
  [503, 'UNAVAILABLE'],
  [504, 'DEADLINE_EXCEEDED'],
]);

const DEFAULT_MESSAGES = new Map<number, string>([
  [401, 'API key not valid. Please pass a valid API key.'],
  [429, 'Resource has been exhausted (e.g. check quota).'],
  [
    500,
    'An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting',
  ],
  [503, 'The model is overloaded. Please try again later.'],
]);

function partsOf(content: unknown): Part[] {
  if (typeof content === 'string') return [{ text: content }];
  const parts = (content as Content | undefined)?.parts;
  return Array.isArray(parts) ? parts.filter((p) => typeof p === 'object' && p !== null) : [];
}

/** The plain text of a content's parts (thoughts left out). */
function textOf(content: unknown): string {
  return partsOf(content)
    .filter((p) => typeof p.text === 'string' && p.thought !== true)
    .map((p) => p.text as string)
    .join('\n');
}

function countParts(contents: Content[], role: string, key: string): number {
  let count = 0;
  for (const content of contents) {
    if ((content.role ?? 'user') === role) count += partsOf(content).filter((p) => key in p).length;
  }
  return count;
}

/**
 * The job's prompt: the text of the user turns that carry no tool results. Gemini CLI sends
 * the session context (date, OS, working directory, folder structure) as a first user turn
 * of its own, wrapped in `<session_context>`, which is not the prompt.
 */
function promptOf(contents: Content[]): string {
  return contents
    .filter(
      (c) => (c.role ?? 'user') === 'user' && countParts([c], 'user', 'functionResponse') === 0,
    )
    .map((c) => textOf(c))
    .join('\n')
    .replace(/<session_context>[\s\S]*?<\/session_context>/g, '')
    .replace(/\r\n/g, '\n')
    .trim();
}

function toolsOf(body: Record<string, unknown>): ModelTurn['tools'] {
  const tools = Array.isArray(body.tools) ? (body.tools as Array<Record<string, unknown>>) : [];
  return tools.flatMap((tool) => {
    const declarations = Array.isArray(tool?.functionDeclarations)
      ? (tool.functionDeclarations as Array<Record<string, unknown>>)
      : [];
    return declarations
      .filter((d) => typeof d?.name === 'string')
      .map((d) => ({
        name: String(d.name),
        parameters: (d.parametersJsonSchema ?? d.parameters) as Record<string, unknown> | undefined,
      }));
  });
}

/** The JSON schema a request wants its answer in (Gemini CLI's routing classifier does). */
function responseSchemaOf(body: Record<string, unknown>): Record<string, unknown> | undefined {
  const config = body.generationConfig as Record<string, unknown> | undefined;
  if (config?.responseMimeType !== 'application/json') return undefined;
  const schema = config.responseJsonSchema ?? config.responseSchema;
  return typeof schema === 'object' && schema !== null
    ? (schema as Record<string, unknown>)
    : undefined;
}

/** A small value that fits a schema (types in either case, as Gemini's schemas spell them). */
export function sampleOf(schema: unknown): unknown {
  const s = (typeof schema === 'object' && schema !== null ? schema : {}) as Record<
    string,
    unknown
  >;
  if (Array.isArray(s.enum) && s.enum.length > 0) return s.enum[0];
  switch (String(s.type ?? 'object').toLowerCase()) {
    case 'string':
      return 'OK';
    case 'integer':
    case 'number':
      return typeof s.minimum === 'number' ? s.minimum : 1;
    case 'boolean':
      return false;
    case 'array':
      return [];
    default: {
      const props = (s.properties ?? {}) as Record<string, unknown>;
      return Object.fromEntries(Object.entries(props).map(([k, v]) => [k, sampleOf(v)]));
    }
  }
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

let responseCount = 0;

/** The parts of a reply: thinking, text, then at most one function call. */
function replyParts(reply: WireReply): Part[] {
  const parts: Part[] = [];
  if (reply.thinking) parts.push({ text: reply.thinking, thought: true });
  if (reply.text) parts.push({ text: reply.text });
  if (reply.toolCall) {
    const { id, name, input } = reply.toolCall;
    parts.push({ functionCall: { id, name, args: input } });
  }
  if (parts.length === 0) parts.push({ text: '' });
  return parts;
}

/** A GenerateContentResponse; the last one of an answer has the finish reason and usage. */
function response(turn: ModelTurn, parts: Part[], usage?: WireReply['usage']) {
  return {
    candidates: [
      { content: { role: 'model', parts }, ...(usage ? { finishReason: 'STOP' } : {}), index: 0 },
    ],
    ...(usage
      ? {
          usageMetadata: {
            promptTokenCount: usage.inputTokens,
            candidatesTokenCount: usage.outputTokens,
            totalTokenCount: usage.inputTokens + usage.outputTokens,
          },
        }
      : {}),
    modelVersion: turn.model ?? 'gemini-demo',
    responseId: `resp_demo_${responseCount}`,
  };
}

export const geminiWire: Wire = {
  name: 'gemini',
  handles: (method, path) => {
    const call = MODEL_PATH.exec(path)?.[2];
    return method === 'POST' && (call === 'streamGenerateContent' || call === 'generateContent');
  },
  decode(body, path) {
    const [, model, method] = MODEL_PATH.exec(path) ?? [];
    const contents = (Array.isArray(body.contents) ? body.contents : []) as Content[];
    const system = textOf(body.systemInstruction);
    const texts = [system, ...contents.map((c) => textOf(c))];
    return {
      wire: 'gemini',
      model,
      prompt: promptOf(contents),
      allText: texts.join('\n'),
      tools: toolsOf(body),
      toolCalls: countParts(contents, 'model', 'functionCall'),
      toolResults: countParts(contents, 'user', 'functionResponse'),
      cwd: findWorkingDirectory(texts),
      stream: method === 'streamGenerateContent',
      responseSchema: responseSchemaOf(body),
    } as ModelTurn;
  },
  reply(res, turn, scripted) {
    responseCount++;
    // Asked for JSON (a side request such as model routing), the model answers in JSON.
    const schema = (turn as ModelTurn & { responseSchema?: unknown }).responseSchema;
    const reply =
      schema && !scripted.toolCall && !isJson(scripted.text ?? '')
        ? { ...scripted, text: JSON.stringify(sampleOf(schema)) }
        : scripted;
    const parts = replyParts(reply);
    if (!turn.stream) return sendJson(res, 200, response(turn, parts, reply.usage));
    startSse(res);
    const send = (data: unknown) => res.write(`data: ${JSON.stringify(data)}\r\n\r\n`);
    // Thinking and text arrive in a few chunks; a function call comes whole, as Gemini sends it.
    if (reply.thinking) {
      for (const part of chunks(reply.thinking))
        send(response(turn, [{ text: part, thought: true }]));
    }
    for (const part of reply.text ? chunks(reply.text) : []) send(response(turn, [{ text: part }]));
    const call = parts.filter((p) => 'functionCall' in p);
    send(response(turn, call.length > 0 ? call : [{ text: '' }], reply.usage));
    res.end();
  },
  error(res, status, message) {
    sendJson(res, status, {
      error: {
        code: status,
        message: message || DEFAULT_MESSAGES.get(status) || `HTTP ${status}`,
        status: STATUS_NAMES.get(status) ?? (status >= 500 ? 'INTERNAL' : 'FAILED_PRECONDITION'),
      },
    });
  },
  extra(req, res, path, rawBody) {
    const [, model, method] = MODEL_PATH.exec(path) ?? [];
    if (req.method === 'POST' && model && method === 'countTokens') {
      sendJson(res, 200, { totalTokens: estimateTokens(rawBody) });
      return true;
    }
    return false;
  },
};
