/**
 * JSON over HTTP to the platform's callback API (platform-api.md), bounded: every attempt has
 * a time limit, answers have a size limit, retries back off exponentially with jitter
 * (p-retry) and stop at a deadline for the whole call, and the caller's AbortSignal stops
 * everything at once.
 *
 * Retried: 5xx, 408, 429 (after its `Retry-After`, within a cap, when it gives one), network
 * errors and attempts without an answer in time. Not retried: any other 4xx, an answer that
 * is too large, cancellation.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import pRetry, { AbortError } from 'p-retry';
import { VERSION } from '../version.js';

/** How a call backs off between attempts: `minMs × factor^n`, times a jitter factor in [1, 2). */
export interface PlatformBackoff {
  /** Pause before the first retry (before jitter). */
  minMs: number;
  /** Longest pause between two attempts (before jitter). */
  maxMs: number;
  /** Growth of the pause per retry. */
  factor: number;
}

export const DEFAULT_PLATFORM_BACKOFF: PlatformBackoff = { minMs: 1000, maxMs: 30_000, factor: 2 };

/** Options of a {@link PlatformClient}: the callback of the payload, and its limits. */
export interface PlatformClientOptions {
  /** `callback.url` of the payload; paths such as `/jobs/…/events` are appended to it. */
  baseUrl: string;
  /** `callback.token` of the payload, sent as `Authorization: Bearer <token>`. */
  token: string;
  /** Limit of each attempt, answer included. Default 30 s. */
  attemptTimeoutMs?: number;
  /** Backoff between attempts. Default 1 s, doubling, at most 30 s, with jitter. */
  backoff?: Partial<PlatformBackoff>;
  /** Longest `Retry-After` of a 429 (or 503) that is honoured as such; longer ones are cut. Default 60 s. */
  maxRetryAfterMs?: number;
  /** Largest answer body read; a larger one fails the call (not retried). Default 8 MiB. */
  maxAnswerBytes?: number;
}

/** One call of the platform API, as data. */
export interface PlatformRequest {
  method: 'GET' | 'POST';
  /** Path below the base URL, starting with `/`, e.g. `/jobs/job_1/events`. */
  path: string;
  /** JSON body (POST). */
  body?: unknown;
}

/** Per-call options of {@link PlatformClient.request}. */
export interface PlatformCallOptions {
  /**
   * Deadline of the whole call, retries and pauses included, in ms: no attempt starts after
   * it, and an attempt running at that moment is cut off.
   */
  maxRetryTime: number;
  /** Most retries after the first attempt. Default: unlimited (the deadline bounds them). */
  retries?: number;
  /** Stops the attempt in flight and any pause; the call rejects with kind `cancelled`. */
  signal?: AbortSignal;
  /** Overrides the client's per-attempt limit. */
  attemptTimeoutMs?: number;
  /** Overrides the client's backoff. */
  backoff?: Partial<PlatformBackoff>;
  /** Told of every answer received (each attempt's, 2xx or not), with its parsed JSON body. */
  onAnswer?: (answer: { status: number; body: unknown }) => void;
  /** Told of every failed attempt, the last one included. */
  onAttemptFailed?: (error: PlatformError, attempt: number) => void;
}

/** A 2xx answer: its status and JSON body (`undefined` when empty or not JSON). */
export interface PlatformAnswer {
  status: number;
  body: unknown;
  /** Attempts it took, the successful one included. */
  attempts: number;
}

/**
 * Why a platform call failed:
 * - `http`: the platform answered with a non-2xx `status` (its JSON or text answer in `body`);
 * - `network`: no connection, or it broke (refused, reset, DNS);
 * - `timeout`: no complete answer within the attempt's limit (or the call's deadline);
 * - `cancelled`: the caller's signal stopped the call;
 * - `invalid_answer`: a 2xx answer that could not be used (too large, not the expected JSON).
 */
export type PlatformErrorKind = 'http' | 'network' | 'timeout' | 'cancelled' | 'invalid_answer';

export interface PlatformErrorInfo {
  kind: PlatformErrorKind;
  method: string;
  path: string;
  /** The HTTP status, for kind `http`. */
  status?: number;
  /** The answer's JSON (or text), for kind `http`. Never set for 2xx answers (they may carry secrets). */
  body?: unknown;
  /** Attempts made. */
  attempts?: number;
  /** What a 429 or 503 answer's `Retry-After` asked for, in ms. */
  retryAfterMs?: number;
  /** What went wrong, without the method and path. */
  detail: string;
  cause?: unknown;
}

/**
 * The one error of the platform client. `retryable` says whether a later try may succeed
 * (5xx, 408, 429, network, timeout), as opposed to an answer the platform will give again
 * (other 4xx, an unusable answer) or a cancellation. The message names the method, the path
 * (never the base URL or the token), the status and the platform's own message, cut short.
 */
export class PlatformError extends Error {
  readonly kind: PlatformErrorKind;
  readonly method: string;
  readonly path: string;
  readonly status: number | undefined;
  readonly body: unknown;
  readonly attempts: number;
  readonly detail: string;
  readonly retryable: boolean;
  readonly retryAfterMs: number | undefined;

  constructor(info: PlatformErrorInfo) {
    const attempts = info.attempts ?? 1;
    super(
      `${info.method} ${info.path}: ${info.detail}${attempts > 1 ? ` (after ${attempts} attempts)` : ''}`,
      info.cause === undefined ? undefined : { cause: info.cause },
    );
    this.name = 'PlatformError';
    this.kind = info.kind;
    this.method = info.method;
    this.path = info.path;
    this.status = info.status;
    this.body = info.body;
    this.attempts = attempts;
    this.detail = info.detail;
    this.retryAfterMs = info.retryAfterMs;
    this.retryable =
      info.kind === 'network' ||
      info.kind === 'timeout' ||
      (info.kind === 'http' && info.status !== undefined && isRetryableStatus(info.status));
  }

  /** The same error, counting `attempts`. */
  withAttempts(attempts: number): PlatformError {
    return new PlatformError({
      kind: this.kind,
      method: this.method,
      path: this.path,
      status: this.status,
      body: this.body,
      attempts,
      retryAfterMs: this.retryAfterMs,
      detail: this.detail,
      cause: this.cause,
    });
  }
}

/** 5xx, 408 and 429 are worth another attempt; any other status is the platform's answer. */
export function isRetryableStatus(status: number): boolean {
  return status >= 500 || status === 408 || status === 429;
}

/** The `User-Agent` of every platform request. */
export const PLATFORM_USER_AGENT = `viberator-worker/${VERSION}`;

/** A retry starts only with at least this much of the deadline left. */
const MIN_RETRY_ATTEMPT_MS = 50;

/** Enough of the platform's error message to tell what it said. */
const MESSAGE_EXCERPT = 300;

/** A client for one job's callback: base URL, token and limits. */
export class PlatformClient {
  readonly baseUrl: string;
  private readonly token: string;
  private readonly attemptTimeoutMs: number;
  private readonly backoff: PlatformBackoff;
  private readonly maxRetryAfterMs: number;
  private readonly maxAnswerBytes: number;

  constructor(opts: PlatformClientOptions) {
    this.baseUrl = opts.baseUrl.replace(/\/+$/, '');
    this.token = opts.token;
    this.attemptTimeoutMs = opts.attemptTimeoutMs ?? 30_000;
    this.backoff = { ...DEFAULT_PLATFORM_BACKOFF, ...opts.backoff };
    this.maxRetryAfterMs = opts.maxRetryAfterMs ?? 60_000;
    this.maxAnswerBytes = opts.maxAnswerBytes ?? 8 * 1024 * 1024;
  }

  /**
   * Sends `request` until a 2xx answer, a final error or the deadline. Resolves with the 2xx
   * answer; rejects with a {@link PlatformError} (the last attempt's, counting the attempts).
   */
  async request(request: PlatformRequest, opts: PlatformCallOptions): Promise<PlatformAnswer> {
    const { signal } = opts;
    const backoff = { ...this.backoff, ...opts.backoff };
    const deadline = performance.now() + Math.max(1, opts.maxRetryTime);
    let attempts = 0;
    /** Failures that used up one of `opts.retries` (Retry-After waits do not). */
    let consumed = 0;
    let last: PlatformError | undefined;
    const cancelled = () =>
      new PlatformError({
        kind: 'cancelled',
        method: request.method,
        path: request.path,
        attempts: Math.max(1, attempts),
        detail: 'cancelled',
      });

    const run = async (): Promise<PlatformAnswer> => {
      const remaining = deadline - performance.now();
      // A retry with a sliver of time left would only trade the platform's answer for a
      // timeout of our own making.
      if (last && remaining < MIN_RETRY_ATTEMPT_MS) throw new AbortError(last);
      attempts += 1;
      try {
        const answer = await this.attempt(request, {
          timeoutMs: Math.min(opts.attemptTimeoutMs ?? this.attemptTimeoutMs, remaining),
          signal,
          onAnswer: opts.onAnswer,
        });
        return { ...answer, attempts };
      } catch (thrown) {
        const error = thrown instanceof PlatformError ? thrown : unexpected(request, thrown);
        last = error;
        opts.onAttemptFailed?.(error, attempts);
        if (!error.retryable) throw new AbortError(error);
        const wait = error.retryAfterMs;
        const retryFollows = consumed < (opts.retries ?? Number.POSITIVE_INFINITY);
        if (wait !== undefined && retryFollows) {
          // The platform said when to come back: wait that long (within the cap and the
          // deadline) and retry at once, without a backoff pause on top.
          const ms = Math.min(wait, this.maxRetryAfterMs, deadline - performance.now());
          if (ms > 0) {
            await sleep(ms, undefined, { signal }).catch(() => {
              throw new AbortError(cancelled());
            });
          }
          throw new Waited(error);
        }
        consumed += 1;
        throw error;
      }
    };

    try {
      return await pRetry(run, {
        retries: opts.retries ?? Number.POSITIVE_INFINITY,
        minTimeout: backoff.minMs,
        maxTimeout: backoff.maxMs,
        factor: backoff.factor,
        randomize: true,
        maxRetryTime: Math.max(1, opts.maxRetryTime),
        signal,
        shouldConsumeRetry: ({ error }) => !(error instanceof Waited),
      });
    } catch (thrown) {
      if (signal?.aborted) throw cancelled();
      const error =
        thrown instanceof Waited
          ? thrown.answer
          : thrown instanceof PlatformError
            ? thrown
            : (last ?? unexpected(request, thrown));
      if (error.kind === 'cancelled') throw error;
      throw error.withAttempts(attempts);
    }
  }

  private async attempt(
    request: PlatformRequest,
    opts: {
      timeoutMs: number;
      signal?: AbortSignal;
      onAnswer?: (answer: { status: number; body: unknown }) => void;
    },
  ): Promise<{ status: number; body: unknown }> {
    const { method, path } = request;
    const fail = (
      kind: PlatformErrorKind,
      detail: string,
      extra: Partial<PlatformErrorInfo> = {},
    ) => new PlatformError({ kind, method, path, detail, ...extra });
    if (opts.signal?.aborted) throw fail('cancelled', 'cancelled');
    const controller = new AbortController();
    let stopped: 'timeout' | 'cancelled' | undefined;
    const stop = (why: 'timeout' | 'cancelled') => {
      stopped ??= why;
      controller.abort();
    };
    const timeoutMs = Math.max(1, Math.round(opts.timeoutMs));
    const timer = setTimeout(() => stop('timeout'), timeoutMs);
    const onCancel = () => stop('cancelled');
    opts.signal?.addEventListener('abort', onCancel, { once: true });
    try {
      const response = await fetch(`${this.baseUrl}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${this.token}`,
          'content-type': 'application/json',
          accept: 'application/json',
          'user-agent': PLATFORM_USER_AGENT,
        },
        body: request.body === undefined ? undefined : JSON.stringify(request.body),
        signal: controller.signal,
        redirect: 'error',
      });
      const text = await readLimited(response, this.maxAnswerBytes);
      if (text === undefined) {
        controller.abort();
        throw fail('invalid_answer', `the answer is larger than ${this.maxAnswerBytes} bytes`, {
          status: response.status,
        });
      }
      const body = parseJson(text);
      opts.onAnswer?.({ status: response.status, body });
      if (response.ok) return { status: response.status, body };
      throw fail('http', `HTTP ${response.status}${platformMessage(body ?? text)}`, {
        status: response.status,
        body: body ?? text,
        retryAfterMs: retryAfterMs(response.status, response.headers.get('retry-after')),
      });
    } catch (error) {
      if (error instanceof PlatformError) throw error;
      if (stopped === 'cancelled') throw fail('cancelled', 'cancelled');
      if (stopped === 'timeout') throw fail('timeout', `no answer within ${timeoutMs} ms`);
      throw fail('network', networkDetail(error), { cause: error });
    } finally {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onCancel);
    }
  }
}

/** A 429 or 503 whose `Retry-After` was waited for: retried at once, not counted as a retry. */
class Waited extends Error {
  constructor(readonly answer: PlatformError) {
    super('waited for Retry-After');
  }
}

function unexpected(request: PlatformRequest, error: unknown): PlatformError {
  return new PlatformError({
    kind: 'network',
    method: request.method,
    path: request.path,
    detail: error instanceof Error ? error.message : String(error),
    cause: error,
  });
}

/** The body as text, or `undefined` when it is larger than `limit` bytes. */
async function readLimited(response: Response, limit: number): Promise<string | undefined> {
  if (!response.body) return '';
  const declared = Number(response.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > limit) {
    await response.body.cancel().catch(() => {});
    return undefined;
  }
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      return undefined;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function parseJson(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** `: <the platform's message>` from a JSON `message` / `error` field or a short text answer. */
function platformMessage(body: unknown): string {
  let message: string | undefined;
  if (typeof body === 'string') message = body;
  else if (body && typeof body === 'object') {
    const record = body as Record<string, unknown>;
    const field = record.message ?? record.error;
    if (typeof field === 'string') message = field;
    else if (field && typeof field === 'object') {
      const nested = (field as Record<string, unknown>).message;
      if (typeof nested === 'string') message = nested;
    }
  }
  message = message?.replace(/\s+/g, ' ').trim();
  if (!message) return '';
  return `: ${message.length > MESSAGE_EXCERPT ? `${message.slice(0, MESSAGE_EXCERPT)}…` : message}`;
}

/** fetch's "fetch failed" says nothing; its cause has the code (ECONNREFUSED, …). */
function networkDetail(error: unknown): string {
  const cause =
    error instanceof Error ? (error.cause as { code?: unknown; message?: unknown }) : undefined;
  const code = typeof cause?.code === 'string' ? cause.code : undefined;
  const message =
    typeof cause?.message === 'string'
      ? cause.message
      : error instanceof Error
        ? error.message
        : String(error);
  return `network error: ${message}${code && !message.includes(code) ? ` (${code})` : ''}`;
}

/** Milliseconds a 429 or 503 asks to wait (`Retry-After`: seconds or an HTTP date). */
function retryAfterMs(status: number, header: string | null): number | undefined {
  if (status !== 429 && status !== 503) return undefined;
  if (header === null || header.trim() === '') return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return seconds >= 0 ? seconds * 1000 : undefined;
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}
