/**
 * Reads the token usage of one upstream answer from the wire as it streams by: which fields
 * carry it depends on the API the request went to (decided from its path), and whether the
 * answer is a stream of server-sent events or one JSON document (Gemini's JSON-array stream
 * included). The last figure seen for a field wins: Anthropic's `message_delta` output count
 * is cumulative, and the last Gemini chunk holds the totals.
 */
import { JsonTap } from './json-tap.js';
import { SseTap } from './sse-tap.js';
import type { Usage } from './types.js';

export type ModelApi = 'anthropic' | 'openai-chat' | 'openai-responses' | 'gemini';

/** The API a request's path is a model call of, or undefined (model lists, token counts). */
export function modelApiOf(method: string, path: string): ModelApi | undefined {
  if (method !== 'POST') return undefined;
  const p = path.replace(/\/+$/, '');
  if (p.endsWith('/messages')) return 'anthropic';
  if (p.endsWith('/chat/completions')) return 'openai-chat';
  // A compaction answers a response object with the same `usage` (input/output tokens).
  if (p.endsWith('/responses') || p.endsWith('/responses/compact')) return 'openai-responses';
  if (/:(stream)?generateContent$/i.test(p)) return 'gemini';
  return undefined;
}

type Field = 'input' | 'promptTotal' | 'output' | 'outputExtra' | 'cacheRead' | 'cacheWrite';

/** Usage fields per API, by path in the answer (or in one event of a stream). */
const FIELDS: Record<ModelApi, Record<string, Field>> = {
  anthropic: withPrefixes(['', 'message.'], {
    'usage.input_tokens': 'input',
    'usage.output_tokens': 'output',
    'usage.cache_read_input_tokens': 'cacheRead',
    'usage.cache_creation_input_tokens': 'cacheWrite',
  }),
  'openai-chat': withPrefixes([''], {
    'usage.prompt_tokens': 'promptTotal',
    'usage.completion_tokens': 'output',
    'usage.prompt_tokens_details.cached_tokens': 'cacheRead',
  }),
  'openai-responses': withPrefixes(['', 'response.'], {
    'usage.input_tokens': 'promptTotal',
    'usage.output_tokens': 'output',
    'usage.input_tokens_details.cached_tokens': 'cacheRead',
  }),
  gemini: withPrefixes(['', '[].'], {
    'usageMetadata.promptTokenCount': 'promptTotal',
    'usageMetadata.candidatesTokenCount': 'output',
    'usageMetadata.thoughtsTokenCount': 'outputExtra',
    'usageMetadata.cachedContentTokenCount': 'cacheRead',
  }),
};

/** Where each API's answer names the model that served it. */
const MODEL_FIELDS: Record<ModelApi, Set<string>> = {
  anthropic: new Set(['model', 'message.model']),
  'openai-chat': new Set(['model']),
  'openai-responses': new Set(['model', 'response.model']),
  gemini: new Set(['modelVersion', '[].modelVersion']),
};

/** The model a request names in its path (Gemini: `…/models/<model>:generateContent`). */
export function modelInPath(path: string): string | undefined {
  return /\/models\/([^/:]+):/.exec(path)?.[1];
}

function withPrefixes(prefixes: string[], fields: Record<string, Field>): Record<string, Field> {
  const out: Record<string, Field> = {};
  for (const prefix of prefixes) {
    for (const [path, field] of Object.entries(fields)) out[prefix + path] = field;
  }
  return out;
}

/** Meters one answer: write every chunk as it passes, then `finish()` for its usage. */
export class UsageMeter {
  private readonly seen: Partial<Record<Field, number>> = {};
  private readonly tap: JsonTap | SseTap;
  /** The model the answer names (the first one seen), for its price. */
  model: string | undefined;

  constructor(api: ModelApi, contentType: string | undefined) {
    const fields = FIELDS[api];
    const modelFields = MODEL_FIELDS[api];
    const onScalar = (path: string, value: unknown) => {
      const field = fields[path];
      if (field && typeof value === 'number' && value >= 0) this.seen[field] = value;
      else if (typeof value === 'string' && value && !this.model && modelFields.has(path))
        this.model = value;
    };
    this.tap = /text\/event-stream/i.test(contentType ?? '')
      ? new SseTap(onScalar)
      : new JsonTap(onScalar);
  }

  write(chunk: Uint8Array): void {
    this.tap.write(chunk);
  }

  /** The answer's usage, or undefined when it reported none. */
  finish(): Usage | undefined {
    this.tap.end();
    const s = this.seen;
    if (Object.keys(s).length === 0) return undefined;
    const cacheRead = s.cacheRead ?? 0;
    const cacheWrite = s.cacheWrite ?? 0;
    const input = s.input ?? Math.max(0, (s.promptTotal ?? 0) - cacheRead);
    return {
      inputTokens: input,
      outputTokens: (s.output ?? 0) + (s.outputExtra ?? 0),
      cacheReadTokens: cacheRead,
      cacheWriteTokens: cacheWrite,
    };
  }
}
