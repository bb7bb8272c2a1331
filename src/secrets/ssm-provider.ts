import type { Parameter, SSMClient } from '@aws-sdk/client-ssm';
import type { SecretProvider } from './resolve.js';

/** GetParameters takes at most 10 names per call (an AWS limit). */
export const SSM_BATCH_SIZE = 10;
/** Attempts per GetParameters call, the first one included (the SDK's own retries). */
export const SSM_MAX_ATTEMPTS = 3;
/** The default bound of one `resolve` call: every batch, every retry. */
export const SSM_DEFAULT_TIMEOUT_MS = 10_000;
/** The region used only when the SDK finds none (no `AWS_REGION`, profile or EC2 metadata). */
export const SSM_FALLBACK_REGION = 'us-east-1';

export interface SsmProviderOptions {
  /** The parameters' region; else the SDK's own resolution (`AWS_REGION`, profile, IMDS). */
  region?: string;
  /**
   * The bound of one `resolve` call, retries included (default 10 s). Each attempt has a
   * third of it to connect and answer, so a stuck attempt is retried before the deadline.
   */
  timeoutMs?: number;
  /** The job's signal: aborting it stops every request in flight. */
  signal?: AbortSignal;
}

/** A SecretProvider for `ssm:` refs, whose SDK client can be released. */
export interface SsmSecretProvider extends SecretProvider {
  readonly scheme: 'ssm';
  /** Closes the client's sockets, if a client was made. */
  destroy(): void;
}

/**
 * A failed lookup that is not "parameter not found": access denied, throttling that
 * outlasted the retries, a network error, a timeout, a cancellation. The message names the
 * parameter paths and the AWS error, never a value.
 */
export class SsmSecretError extends Error {
  override readonly name = 'SsmSecretError';
  constructor(
    message: string,
    /** The parameter paths whose lookup failed. */
    readonly paths: string[],
    /** The AWS error name of the first failure (`AccessDeniedException`, `TimeoutError`, …). */
    readonly awsErrorName: string,
    /** Whether the same lookup may succeed later (throttling, timeouts, network, 5xx). */
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

type SsmSdk = typeof import('@aws-sdk/client-ssm');

let sdk: Promise<SsmSdk> | undefined;
let sdkLoaded = false;

/** Whether this module has imported `@aws-sdk/client-ssm` (it only does for an ssm: ref). */
export function ssmClientLoaded(): boolean {
  return sdkLoaded;
}

function loadSdk(): Promise<SsmSdk> {
  sdk ??= import('@aws-sdk/client-ssm').then(
    (module) => {
      sdkLoaded = true;
      return module;
    },
    (error: unknown) => {
      sdk = undefined;
      throw error;
    },
  );
  return sdk;
}

/**
 * `ssm:/parameter/path` refs (payload.md, "Secrets") from AWS Systems Manager Parameter
 * Store. The key is the parameter name as written after `ssm:` (a `:<version>` or
 * `:<label>` selector included); SecureStrings are decrypted.
 *
 * - The SDK is imported and one client made on the first `resolve` with keys; a job without
 *   ssm: refs never loads it.
 * - Region: `opts.region`, else the SDK's own chain (`AWS_REGION`, the shared config
 *   profile, EC2 instance metadata). Only when that chain finds nothing, where the SDK would
 *   throw "Region is missing", the client uses `us-east-1`.
 * - Endpoint: the SDK's own `AWS_ENDPOINT_URL_SSM` (then `AWS_ENDPOINT_URL`, then the
 *   profile's `endpoint_url`), read by the SDK itself.
 * - All keys are fetched with GetParameters (`WithDecryption: true`) in batches of 10, the
 *   batches at the same time. Names in `InvalidParameters` (not found, or a selector naming
 *   no version or label) are missing keys: absent from the map.
 * - Bounded: the SDK retries at most {@link SSM_MAX_ATTEMPTS} attempts; each attempt has a
 *   third of `timeoutMs` to connect and answer; the whole call aborts after `timeoutMs` or
 *   when `opts.signal` aborts.
 * - Any other failure throws an {@link SsmSecretError} naming the failing paths and the AWS
 *   error name and message. Nothing is logged: not the values, not the requests.
 */
export function ssmProvider(opts: SsmProviderOptions = {}): SsmSecretProvider {
  const timeoutMs = opts.timeoutMs ?? SSM_DEFAULT_TIMEOUT_MS;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    throw new TypeError(`ssm: timeoutMs must be a positive number of milliseconds`);
  }
  const attemptMs = Math.max(1, Math.ceil(timeoutMs / SSM_MAX_ATTEMPTS));
  let client: Promise<SSMClient> | undefined;
  let made: SSMClient | undefined;

  const getClient = (): Promise<SSMClient> => {
    client ??= makeClient(opts.region, attemptMs).then(
      (value) => {
        made = value;
        return value;
      },
      (error: unknown) => {
        client = undefined;
        throw error;
      },
    );
    return client;
  };

  return {
    scheme: 'ssm',
    destroy() {
      made?.destroy();
      made = undefined;
      client = undefined;
    },
    async resolve(keys) {
      const unique = [...new Set(keys)];
      const found = new Map<string, string>();
      if (unique.length === 0) return found;

      const batches: string[][] = [];
      for (let i = 0; i < unique.length; i += SSM_BATCH_SIZE) {
        batches.push(unique.slice(i, i + SSM_BATCH_SIZE));
      }
      const deadline = AbortSignal.timeout(timeoutMs);
      const signal = opts.signal ? AbortSignal.any([opts.signal, deadline]) : deadline;
      const why = (error: unknown): Failure =>
        describeFailure(error, { deadline, jobSignal: opts.signal, timeoutMs });

      if (signal.aborted) throw failure(unique, [{ paths: unique, ...why(undefined) }], found);
      let ssm: SSMClient;
      let GetParametersCommand: SsmSdk['GetParametersCommand'];
      try {
        ({ GetParametersCommand } = await loadSdk());
        ssm = await getClient();
      } catch (error) {
        throw failure(unique, [{ paths: unique, ...why(error) }], found);
      }

      const settled = await Promise.allSettled(
        batches.map(async (batch) => {
          const answer = await ssm.send(
            new GetParametersCommand({ Names: batch, WithDecryption: true }),
            { abortSignal: signal },
          );
          return { batch, parameters: answer.Parameters ?? [] };
        }),
      );
      const failed: Array<{ paths: string[] } & Failure> = [];
      settled.forEach((outcome, index) => {
        const batch = batches[index] ?? [];
        if (outcome.status === 'rejected') {
          failed.push({ paths: batch, ...why(outcome.reason) });
          return;
        }
        for (const parameter of outcome.value.parameters) {
          const key = keyOf(parameter, batch);
          if (key !== undefined && parameter.Value !== undefined) found.set(key, parameter.Value);
        }
      });
      if (failed.length > 0) throw failure(unique, failed, found);
      return found;
    },
  };
}

async function makeClient(region: string | undefined, attemptMs: number): Promise<SSMClient> {
  const { SSMClient } = await loadSdk();
  const config = {
    maxAttempts: SSM_MAX_ATTEMPTS,
    requestHandler: {
      connectionTimeout: attemptMs,
      requestTimeout: attemptMs,
      // Without it, an exceeded requestTimeout is only a logged warning.
      throwOnRequestTimeout: true,
    },
  };
  if (region) return new SSMClient({ ...config, region });
  const ssm = new SSMClient(config);
  try {
    await ssm.config.region();
    return ssm;
  } catch (error) {
    ssm.destroy();
    if (!(error instanceof Error && /Region is missing/.test(error.message))) throw error;
    return new SSMClient({ ...config, region: SSM_FALLBACK_REGION });
  }
}

/** The requested key a returned parameter answers: its name (with selector) or its ARN. */
function keyOf(parameter: Parameter, batch: string[]): string | undefined {
  const selector = parameter.Selector ?? '';
  const candidates = [parameter.Name, parameter.ARN].flatMap((name) =>
    name ? [`${name}${selector}`, name] : [],
  );
  return candidates.find((candidate) => batch.includes(candidate));
}

interface Failure {
  errorName: string;
  detail: string;
  retryable: boolean;
}

const THROTTLING = new Set([
  'ThrottlingException',
  'Throttling',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'ProvisionedThroughputExceededException',
  'SlowDown',
]);

function describeFailure(
  error: unknown,
  context: { deadline: AbortSignal; jobSignal: AbortSignal | undefined; timeoutMs: number },
): Failure {
  const e = (error ?? {}) as {
    name?: unknown;
    message?: unknown;
    code?: unknown;
    $fault?: unknown;
    $metadata?: { httpStatusCode?: unknown };
  };
  const rawName = typeof e.name === 'string' ? e.name : 'Error';
  const errorName = rawName === 'Error' && typeof e.code === 'string' ? e.code : rawName;
  const message = typeof e.message === 'string' ? e.message : String(error);
  if (context.jobSignal?.aborted) {
    return { errorName: 'AbortError', detail: 'cancelled', retryable: false };
  }
  if (context.deadline.aborted) {
    return {
      errorName: 'TimeoutError',
      detail:
        errorName === 'AbortError' || error === undefined
          ? `no answer within ${context.timeoutMs} ms`
          : `no answer within ${context.timeoutMs} ms (${errorName}: ${message})`,
      retryable: true,
    };
  }
  const status = e.$metadata?.httpStatusCode;
  const retryable =
    THROTTLING.has(errorName) ||
    errorName === 'TimeoutError' ||
    e.$fault === 'server' ||
    (typeof status === 'number' && status >= 500) ||
    // No answer from AWS at all (connection refused or reset, DNS): the network, not the ask.
    (e.$fault === undefined && typeof status !== 'number' && errorName !== 'AbortError');
  return { errorName, detail: `${errorName}: ${message}`, retryable };
}

/** One error for every failed batch; any value already found is scrubbed from the message. */
function failure(
  all: string[],
  failed: Array<{ paths: string[] } & Failure>,
  found: Map<string, string>,
): SsmSecretError {
  const byDetail = new Map<string, string[]>();
  for (const { paths, detail } of failed) {
    byDetail.set(detail, [...(byDetail.get(detail) ?? []), ...paths]);
  }
  const paths = failed.flatMap((entry) => entry.paths);
  const parts = [...byDetail].map(([detail, group]) => `${group.join(', ')}: ${detail}`);
  let message = `ssm: GetParameters failed for ${paths.length} of ${all.length} parameters: ${parts.join('; ')}`;
  for (const value of found.values()) {
    if (value.length >= 4) message = message.split(value).join('[REDACTED]');
  }
  const first = failed[0];
  return new SsmSecretError(
    message,
    paths,
    first?.errorName ?? 'Error',
    failed.every((entry) => entry.retryable),
  );
}
