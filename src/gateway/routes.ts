/**
 * What the gateway forwards: the calls the agent CLIs make to their model API, for the
 * upstream's own wire, nothing else. The real key opens more than models upstream (files,
 * batches, assistants' threads, fine-tuning, an organisation's admin API); the agent is
 * untrusted, so it gets the model calls only. Paths are matched at their end: the upstream's
 * base path (`/v1`, `/compatible-mode/v1`, `/api/v1`) comes before them.
 */
import type { Provider } from './types.js';

/** The model calls of each wire, as `METHOD path-suffix` patterns. */
const CALLS: Record<Provider, Array<[method: string, suffix: RegExp]>> = {
  anthropic: [
    ['POST', /\/v\d[^/]*\/messages$/],
    ['POST', /\/v\d[^/]*\/messages\/count_tokens$/],
  ],
  openai: [
    ['POST', /\/chat\/completions$/],
    ['POST', /\/responses$/],
    // Codex compacts a long conversation through the Responses API's own endpoint.
    ['POST', /\/responses\/compact$/],
  ],
  gemini: [['POST', /\/models\/[^/:]+:(generateContent|streamGenerateContent|countTokens)$/]],
};

/** Model lists and one model's details, which CLIs read at start (every wire). */
const MODEL_LIST = /\/models(\/[^/:]+)?$/;

/** True for a call the gateway forwards to a `provider` upstream (`path` without the query). */
export function isModelCall(provider: Provider, method: string, path: string): boolean {
  const p = path.replace(/\/+$/, '');
  if (method === 'GET') return MODEL_LIST.test(p);
  return CALLS[provider].some(([m, suffix]) => m === method && suffix.test(p));
}
