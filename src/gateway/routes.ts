/**
 * What the gateway forwards: the calls the agent CLIs make to their model API, for the
 * upstream's own wire, nothing else (runtime.md, "Model gateway"). The real key opens more
 * than models upstream (files, batches, assistants' threads, fine-tuning, an organisation's
 * admin API); the agent is untrusted, so it gets the model calls only.
 *
 * A request target passes when it is origin-form, its path starts with the upstream's base
 * path, and the rest is exactly one of the wire's model-call paths (a query string allowed).
 * Nothing is decoded or normalised first: a target that an upstream or a proxy on the way could
 * read as another path (encoded separators, dot segments, backslashes, empty segments) is
 * refused rather than interpreted.
 */
import type { Provider } from './types.js';

/** A model name: letters and digits at both ends (no dot segment, no trailing dot). */
const NAME = '[A-Za-z0-9](?:[A-Za-z0-9._~:@+-]*[A-Za-z0-9])?';
/** Gemini's `models/<name>:<action>`: the name has no colon. */
const GEMINI_NAME = '[A-Za-z0-9](?:[A-Za-z0-9._~@+-]*[A-Za-z0-9])?';
const GEMINI_VERSION = '(?:v1|v1beta|v1alpha)';

/**
 * The model calls of each wire, as `[method, path]` after the base path. Anthropic's and
 * Gemini's are written with their API version, which a base URL may carry instead
 * (OpenCode's SDKs use `…/v1` and `…/v1beta`), see {@link API_VERSION}. Every wire also
 * lists its models and reads one, which CLIs do at start.
 */
const CALLS: Record<Provider, Array<[method: string, path: RegExp]>> = {
  anthropic: [
    ['POST', /^\/v1\/messages$/],
    ['POST', /^\/v1\/messages\/count_tokens$/],
    ['GET', new RegExp(`^/v1/models(?:/${NAME})?$`)],
  ],
  openai: [
    ['POST', /^\/chat\/completions$/],
    ['POST', /^\/responses$/],
    // Codex compacts a long conversation through the Responses API's own endpoint.
    ['POST', /^\/responses\/compact$/],
    ['GET', new RegExp(`^/models(?:/${NAME})?$`)],
  ],
  gemini: [
    [
      'POST',
      new RegExp(
        `^/${GEMINI_VERSION}/models/${GEMINI_NAME}:(?:generateContent|streamGenerateContent|countTokens)$`,
      ),
    ],
    ['GET', new RegExp(`^/${GEMINI_VERSION}/models(?:/${GEMINI_NAME})?$`)],
  ],
};

/** The last segment of a base path that is the wire's API version, folded into its calls. */
const API_VERSION: Record<Provider, RegExp | undefined> = {
  anthropic: /\/(v1)$/,
  openai: undefined,
  gemini: /\/(v1|v1beta|v1alpha)$/,
};

/** Characters a path may hold at all (RFC 3986 `pchar` and `/`; `%` checked apart). */
const PATH_CHARS = /^[A-Za-z0-9\-._~!$&'()*+,;=:@%/]*$/;
/** Percent-encodings of a separator, a dot or NUL, in any case. */
const ENCODED_SEPARATOR = /%(?:2f|5c|3f|23|2e|00)/i;

/** The verdict on one request: what to forward, or why not (for the log and the answer). */
export type RouteCheck = { path: string; search: string } | { refused: string };

/**
 * Checks a request target (`req.url`, as received) against the model calls of a `provider`
 * upstream whose base URL has the path `basePath` (`''`, `/v1`, `/compatible-mode/v1`). On
 * success: the path to forward (the target's own, base path included) and the query without
 * any `key=` (a Gemini client's key, never sent upstream).
 */
export function checkModelCall(
  provider: Provider,
  basePath: string,
  method: string,
  target: string,
): RouteCheck {
  if (!target.startsWith('/')) return { refused: 'not an origin-form request target' };
  if (/[#\\]/.test(target)) return { refused: 'a fragment or backslash in the request target' };
  const q = target.indexOf('?');
  const path = q < 0 ? target : target.slice(0, q);
  if (!PATH_CHARS.test(path) || /%(?![0-9A-Fa-f]{2})/.test(path)) {
    return { refused: 'a character a path may not hold' };
  }
  if (ENCODED_SEPARATOR.test(path)) {
    return { refused: 'an encoded separator, dot or NUL in the path' };
  }
  const segments = path.split('/').slice(1);
  if (segments.some((s) => s === '' || s === '.' || s === '..')) {
    return { refused: 'an empty or dot segment in the path' };
  }
  const base = basePath.replace(/\/+$/, '');
  if (!path.startsWith(`${base}/`)) return { refused: "outside the upstream's base path" };
  const rest = path.slice(base.length);
  const version = API_VERSION[provider]?.exec(base)?.[1];
  const candidates = version ? [rest, `/${version}${rest}`] : [rest];
  const isCall = CALLS[provider].some(
    ([m, call]) => m === method && candidates.some((candidate) => call.test(candidate)),
  );
  if (!isCall) return { refused: 'not a model call' };
  const query = new URLSearchParams(q < 0 ? '' : target.slice(q + 1));
  query.delete('key');
  return { path, search: query.size > 0 ? `?${query}` : '' };
}

/** True for a call the gateway forwards to a `provider` upstream with that base path. */
export function isModelCall(
  provider: Provider,
  method: string,
  target: string,
  basePath = '',
): boolean {
  return 'path' in checkModelCall(provider, basePath, method, target);
}
