/**
 * Where each provider's clients put the key, how the gateway checks the per-job key there,
 * and how it puts the real key in its place upstream.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { Provider } from './types.js';

/**
 * How the real key is sent upstream. `api-key` is the provider's own key header
 * (Anthropic `x-api-key`, OpenAI `Authorization: Bearer`, Gemini `x-goog-api-key`);
 * `bearer` sends it as `Authorization: Bearer` whatever the provider (an Anthropic OAuth
 * token such as `CLAUDE_CODE_OAUTH_TOKEN`).
 */
export type KeyPlacement = 'api-key' | 'bearer';

/** Headers that carry a key in any of the four APIs: never forwarded as the client sent them. */
export const CREDENTIAL_HEADERS = ['x-api-key', 'authorization', 'x-goog-api-key'];

/** A fresh per-job key: 32 random bytes, base64url. */
export function newJobKey(): string {
  return randomBytes(32).toString('base64url');
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The keys a request presents, in the places that provider's clients send it. */
function presentedKeys(
  provider: Provider,
  headers: IncomingHttpHeaders,
  query: URLSearchParams,
): string[] {
  const bearer = /^bearer\s+(\S+)\s*$/i.exec(header(headers, 'authorization') ?? '')?.[1];
  const keys: Array<string | undefined> =
    provider === 'anthropic'
      ? [header(headers, 'x-api-key'), bearer]
      : provider === 'openai'
        ? [bearer]
        : [header(headers, 'x-goog-api-key'), query.get('key') ?? undefined];
  return keys.filter((k): k is string => k !== undefined);
}

/** True when the request carries the job's key where its provider's clients send it. */
export function carriesJobKey(
  provider: Provider,
  headers: IncomingHttpHeaders,
  query: URLSearchParams,
  jobKey: string,
): boolean {
  const expected = Buffer.from(jobKey);
  return presentedKeys(provider, headers, query).some((key) => {
    const given = Buffer.from(key);
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}

/** The header that carries the real key upstream. */
export function upstreamCredential(
  provider: Provider,
  placement: KeyPlacement,
  key: string,
): [string, string] {
  if (placement === 'bearer' || provider === 'openai') return ['authorization', `Bearer ${key}`];
  return provider === 'anthropic' ? ['x-api-key', key] : ['x-goog-api-key', key];
}

/** Why the gateway answers a request itself, without the upstream. */
export type Refusal = 'unauthorized' | 'not_model_call' | 'budget';

const REFUSALS: Record<
  Refusal,
  { status: number; anthropic: string; openai: [string, string]; gemini: string }
> = {
  unauthorized: {
    status: 401,
    anthropic: 'authentication_error',
    openai: ['invalid_request_error', 'invalid_api_key'],
    gemini: 'UNAUTHENTICATED',
  },
  not_model_call: {
    status: 404,
    anthropic: 'not_found_error',
    openai: ['invalid_request_error', 'not_found'],
    gemini: 'NOT_FOUND',
  },
  budget: {
    status: 429,
    anthropic: 'rate_limit_error',
    openai: ['insufficient_quota', 'insufficient_quota'],
    gemini: 'RESOURCE_EXHAUSTED',
  },
};

/** The status and the provider's own error JSON, so a CLI reports it as it would its own. */
export function refusal(
  provider: Provider,
  why: Refusal,
  message: string,
): { status: number; body: string } {
  const r = REFUSALS[why];
  const body =
    provider === 'anthropic'
      ? { type: 'error', error: { type: r.anthropic, message } }
      : provider === 'openai'
        ? { error: { message, type: r.openai[0], param: null, code: r.openai[1] } }
        : { error: { code: r.status, message, status: r.gemini } };
  return { status: r.status, body: JSON.stringify(body) };
}
