/**
 * The two configuration calls of platform-api.md: the clanker of a payload that names only a
 * `clankerId`, and the values of `platform:` secret refs.
 *
 * Both throw {@link PlatformError}; the caller maps it (a clanker that cannot be fetched is
 * `config_unavailable`, retryable; secrets: `missing_secret` for a 4xx such as 403/404,
 * `config_unavailable` when `retryable` — the platform was unreachable or failing). A 2xx
 * answer of the wrong shape is kind `invalid_answer` (never carrying the answer: it may hold
 * secret values).
 */
import {
  type PlatformClient,
  PlatformError,
  type PlatformErrorInfo,
  type PlatformErrorKind,
} from './platform-http.js';

/** Limits of one configuration call. */
export interface PlatformConfigCallOptions {
  /** Deadline of the call, retries included. Default 30 s. */
  maxRetryTime?: number;
  /** The job's signal: stops the call (kind `cancelled`). */
  signal?: AbortSignal;
}

const DEFAULT_CONFIG_DEADLINE_MS = 30_000;

/** `/jobs/{jobId}` with the id encoded (a valid jobId needs no encoding; an invalid one cannot escape). */
export function jobPath(jobId: string, call: 'clanker' | 'secrets' | 'events' | 'result'): string {
  return `/jobs/${encodeURIComponent(jobId)}/${call}`;
}

/**
 * `GET /jobs/{jobId}/clanker`: the clanker object as the platform sent it, unvalidated (the
 * caller validates it with the payload's clanker schema). Throws {@link PlatformError}; a 2xx
 * answer that is not a JSON object is kind `invalid_answer`.
 */
export async function fetchClanker(
  client: PlatformClient,
  jobId: string,
  opts: PlatformConfigCallOptions = {},
): Promise<unknown> {
  const path = jobPath(jobId, 'clanker');
  const answer = await client.request(
    { method: 'GET', path },
    { maxRetryTime: opts.maxRetryTime ?? DEFAULT_CONFIG_DEADLINE_MS, signal: opts.signal },
  );
  const { body } = answer;
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw invalid('GET', path, answer.attempts, 'the answer is not a JSON object');
  }
  return body;
}

/**
 * `POST /jobs/{jobId}/secrets` with `{ keys }`, once for all keys: their values by key. A key
 * absent from the answer (or `null` there) is absent from the map: the secret is missing. No
 * request is made for no keys. Throws {@link PlatformError}; an answer without a `secrets`
 * object, or with a value that is not a string, is kind `invalid_answer`.
 */
export async function fetchPlatformSecrets(
  client: PlatformClient,
  jobId: string,
  keys: readonly string[],
  opts: PlatformConfigCallOptions = {},
): Promise<Map<string, string>> {
  const wanted = [...new Set(keys)];
  const values = new Map<string, string>();
  if (wanted.length === 0) return values;
  const path = jobPath(jobId, 'secrets');
  const answer = await client.request(
    { method: 'POST', path, body: { keys: wanted } },
    { maxRetryTime: opts.maxRetryTime ?? DEFAULT_CONFIG_DEADLINE_MS, signal: opts.signal },
  );
  const secrets = (answer.body as { secrets?: unknown } | undefined)?.secrets;
  if (secrets === null || typeof secrets !== 'object' || Array.isArray(secrets)) {
    throw invalid('POST', path, answer.attempts, 'the answer has no "secrets" object');
  }
  for (const key of wanted) {
    if (!Object.hasOwn(secrets, key)) continue;
    const value = (secrets as Record<string, unknown>)[key];
    if (value === null || value === undefined) continue;
    // Names the key, never the value.
    if (typeof value !== 'string') {
      throw invalid('POST', path, answer.attempts, `secrets["${key}"] is not a string`);
    }
    values.set(key, value);
  }
  return values;
}

function invalid(method: string, path: string, attempts: number, detail: string): PlatformError {
  const info: PlatformErrorInfo = {
    kind: 'invalid_answer' satisfies PlatformErrorKind,
    method,
    path,
    attempts,
    detail,
  };
  return new PlatformError(info);
}
