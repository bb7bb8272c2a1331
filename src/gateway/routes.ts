/**
 * What the gateway forwards: the calls the agent CLIs make to their model APIs, nothing
 * else. The real key opens more than models upstream (files, batches, fine-tuning, an
 * organisation's admin API); the agent is untrusted, so it gets the model calls only.
 */
import { modelApiOf } from './usage.js';

/** Token counting: forwarded, not metered (it consumes nothing). */
const COUNT_TOKENS = /(\/messages\/count_tokens|:countTokens)$/i;
/** Model lists and one model's details, which CLIs read at start. */
const MODEL_LIST = /\/models(\/[^/:]+)?$/;
/** Codex compacts a long conversation through the Responses API's own endpoint. */
const RESPONSES_COMPACT = /\/responses\/compact$/;

/** True for a call the gateway forwards (`path` without the query). */
export function isModelCall(method: string, path: string): boolean {
  const p = path.replace(/\/+$/, '');
  if (modelApiOf(method, p)) return true;
  if (method === 'POST') return COUNT_TOKENS.test(p) || RESPONSES_COMPACT.test(p);
  if (method === 'GET') return MODEL_LIST.test(p);
  return false;
}
