import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A stand-in for AWS Systems Manager Parameter Store, speaking its JSON protocol as the real
 * `@aws-sdk/client-ssm` does (test-infrastructure.md, "SSM Parameter Store"): `POST /` with
 * `Content-Type: application/x-amz-json-1.1` and `X-Amz-Target: AmazonSSM.<Operation>`.
 * GetParameter and GetParameters are served from `parameters` (all SecureStrings, version 1);
 * errors are `{"__type": "<Name>", "message": …}` with a 4xx/5xx status, as AWS sends them.
 *
 * It checks that every request carries a SigV4 `Authorization` header scoped to the `ssm`
 * service (the signature itself is not verified: the credentials are dummies), records each
 * request (operation, names, WithDecryption, signing region; never a value), and can be told
 * to fail or to stop answering.
 */
export interface SsmStandIn {
  /** `http://127.0.0.1:<port>`: the value for `AWS_ENDPOINT_URL_SSM`. */
  url: string;
  /** Every request that reached the server, in order. Values are never recorded. */
  requests: SsmRequest[];
  /**
   * The next `times` requests for `target` (`GetParameters` or `AmazonSSM.GetParameters`) are
   * answered with this error instead: status, `__type` and message.
   */
  fail(target: string, error: SsmFault, times?: number): void;
  /** From now on, requests are accepted and never answered (a stuck endpoint). */
  hang(): void;
  close(): Promise<void>;
}

export interface SsmRequest {
  /** The operation, e.g. `GetParameters` (the `X-Amz-Target` without `AmazonSSM.`). */
  target: string;
  /** `Name` of GetParameter, `Names` of GetParameters. */
  names: string[];
  withDecryption: boolean | undefined;
  /** The region of the SigV4 credential scope, when the request was signed. */
  region: string | undefined;
  signed: boolean;
  /** What the stand-in did with it. */
  outcome: 'answered' | 'fault' | 'hung' | 'rejected';
}

export interface SsmFault {
  status: number;
  /** The AWS error name, e.g. `AccessDeniedException`, `ThrottlingException`. */
  type: string;
  message?: string;
}

const TARGET_PREFIX = 'AmazonSSM.';
const CONTENT_TYPE = 'application/x-amz-json-1.1';
/** `AWS4-HMAC-SHA256 Credential=<key>/<date>/<region>/ssm/aws4_request, SignedHeaders=…, Signature=…` */
const SIGV4 =
  /^AWS4-HMAC-SHA256 Credential=[^/\s]+\/\d{8}\/([^/\s]+)\/ssm\/aws4_request, ?SignedHeaders=[a-z0-9;-]+, ?Signature=[0-9a-f]{64}$/;
const ACCOUNT = '123456789012';
/** Fixed so that `LastModifiedDate` (epoch seconds) is stable. */
const LAST_MODIFIED = 1_767_225_600.123;

export async function startSsmStandIn(opts: {
  parameters: Record<string, string>;
}): Promise<SsmStandIn> {
  const parameters = new Map(Object.entries(opts.parameters));
  const requests: SsmRequest[] = [];
  const faults: Array<{ target: string; error: SsmFault; remaining: number }> = [];
  let hanging = false;
  let region = 'us-east-1';

  const parameter = (requested: string, withDecryption: boolean | undefined) => {
    // A name may carry a selector: `/path:<version>`. Names cannot contain ':' themselves.
    const colon = requested.indexOf(':');
    const name = colon === -1 ? requested : requested.slice(0, colon);
    const selector = colon === -1 ? undefined : requested.slice(colon);
    const value = parameters.get(name);
    if (value === undefined || (selector !== undefined && selector !== ':1')) return undefined;
    return {
      Name: name,
      Type: 'SecureString',
      // As AWS does: without decryption a SecureString comes back as its ciphertext.
      Value: withDecryption ? value : Buffer.from(`kms-ciphertext-of:${name}`).toString('base64'),
      Version: 1,
      ...(selector ? { Selector: selector } : {}),
      LastModifiedDate: LAST_MODIFIED,
      ARN: `arn:aws:ssm:${region}:${ACCOUNT}:parameter${name.startsWith('/') ? '' : '/'}${name}`,
      DataType: 'text',
    };
  };

  const handle = (req: IncomingMessage, res: ServerResponse, raw: string): void => {
    const send = (status: number, body: unknown) => {
      res.writeHead(status, {
        'content-type': CONTENT_TYPE,
        'x-amzn-requestid': randomUUID(),
      });
      res.end(JSON.stringify(body));
    };
    const error = (status: number, type: string, message?: string) =>
      send(status, message === undefined ? { __type: type } : { __type: type, message });

    if (req.method !== 'POST' || req.url !== '/') {
      error(404, 'UnknownOperationException');
      return;
    }
    const header = req.headers['x-amz-target'];
    const fullTarget = typeof header === 'string' ? header : '';
    const target = fullTarget.startsWith(TARGET_PREFIX)
      ? fullTarget.slice(TARGET_PREFIX.length)
      : fullTarget;
    const authorization = req.headers.authorization ?? '';
    const scope = SIGV4.exec(authorization);
    let body: Record<string, unknown> = {};
    let parsed = true;
    try {
      const value: unknown = JSON.parse(raw || '{}');
      if (value && typeof value === 'object' && !Array.isArray(value)) {
        body = value as Record<string, unknown>;
      } else parsed = false;
    } catch {
      parsed = false;
    }
    const names =
      target === 'GetParameters'
        ? Array.isArray(body.Names)
          ? body.Names.filter((name): name is string => typeof name === 'string')
          : []
        : typeof body.Name === 'string'
          ? [body.Name]
          : [];
    const record: SsmRequest = {
      target,
      names,
      withDecryption: typeof body.WithDecryption === 'boolean' ? body.WithDecryption : undefined,
      region: scope?.[1],
      signed: scope !== null,
      outcome: 'rejected',
    };
    requests.push(record);

    if (hanging) {
      record.outcome = 'hung';
      return; // accepted, never answered
    }
    if (!scope) {
      error(
        400,
        authorization ? 'IncompleteSignatureException' : 'MissingAuthenticationTokenException',
        authorization
          ? 'Authorization header is not a SigV4 signature for the ssm service'
          : 'Missing Authentication Token',
      );
      return;
    }
    region = scope[1] ?? region;
    if (!fullTarget.startsWith(TARGET_PREFIX)) {
      error(400, 'UnknownOperationException');
      return;
    }
    const contentType = (req.headers['content-type'] ?? '').split(';')[0]?.trim();
    if (contentType !== CONTENT_TYPE) {
      error(400, 'SerializationException', `expected Content-Type ${CONTENT_TYPE}`);
      return;
    }
    const fault = faults.find((candidate) => candidate.target === target);
    if (fault) {
      fault.remaining -= 1;
      if (fault.remaining <= 0) faults.splice(faults.indexOf(fault), 1);
      record.outcome = 'fault';
      error(fault.error.status, fault.error.type, fault.error.message);
      return;
    }
    if (!parsed) {
      error(400, 'SerializationException', 'the request body is not a JSON object');
      return;
    }
    const withDecryption = record.withDecryption;
    switch (target) {
      case 'GetParameter': {
        if (typeof body.Name !== 'string' || body.Name === '') {
          error(400, 'ValidationException', "1 validation error detected: 'name' must not be null");
          return;
        }
        const found = parameter(body.Name, withDecryption);
        record.outcome = 'answered';
        if (!found) {
          error(400, 'ParameterNotFound');
          return;
        }
        send(200, { Parameter: found });
        return;
      }
      case 'GetParameters': {
        if (
          !Array.isArray(body.Names) ||
          names.length !== body.Names.length ||
          names.length < 1 ||
          names.length > 10
        ) {
          error(
            400,
            'ValidationException',
            `1 validation error detected: Value at 'names' failed to satisfy constraint: Member must have length less than or equal to 10 and greater than or equal to 1`,
          );
          return;
        }
        const found: unknown[] = [];
        const invalid: string[] = [];
        for (const name of new Set(names)) {
          const answer = parameter(name, withDecryption);
          if (answer) found.push(answer);
          else invalid.push(name);
        }
        record.outcome = 'answered';
        send(200, { Parameters: found, InvalidParameters: invalid });
        return;
      }
      default:
        error(400, 'UnknownOperationException');
    }
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => handle(req, res, Buffer.concat(chunks).toString('utf8')));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    fail(target, error, times = 1) {
      const name = target.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : target;
      faults.push({ target: name, error, remaining: times });
    },
    hang() {
      hanging = true;
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * Points the real SDK at a stand-in from this process: sets the variables (undefined deletes
 * one) and returns a function that restores the previous environment. Shared config files and
 * EC2 metadata are switched off so the host's AWS setup cannot leak into a test.
 */
export function useSsmStandInEnv(
  url: string,
  overrides: Record<string, string | undefined> = {},
): () => void {
  const vars: Record<string, string | undefined> = {
    AWS_ENDPOINT_URL_SSM: url,
    AWS_ENDPOINT_URL: undefined,
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'AKIASTANDIN000000000',
    AWS_SECRET_ACCESS_KEY: 'stand-in-secret-access-key',
    AWS_SESSION_TOKEN: undefined,
    AWS_PROFILE: undefined,
    AWS_MAX_ATTEMPTS: undefined,
    AWS_RETRY_MODE: undefined,
    AWS_CONFIG_FILE: '/nonexistent/viberator-ssm-stand-in/config',
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/viberator-ssm-stand-in/credentials',
    AWS_EC2_METADATA_DISABLED: 'true',
    ...overrides,
  };
  const saved = Object.fromEntries(Object.keys(vars).map((name) => [name, process.env[name]]));
  const apply = (values: Record<string, string | undefined>) => {
    for (const [name, value] of Object.entries(values)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
  apply(vars);
  return () => apply(saved);
}
