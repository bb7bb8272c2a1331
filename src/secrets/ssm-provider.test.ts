import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  type SsmStandIn,
  startSsmStandIn,
  useSsmStandInEnv,
} from '../../test/support/ssm-stand-in.js';
import { startTrapServer } from '../../test/support/trap-server.js';
import {
  type SsmProviderOptions,
  SsmSecretError,
  type SsmSecretProvider,
  ssmProvider,
} from './ssm-provider.js';

const ANTHROPIC = '/viberator/acme/anthropic';
const ANTHROPIC_VALUE = 'sk-ant-ssm-value-do-not-leak-0123456789';
/** 23 parameters: three batches (10, 10, 3). */
const MANY = Object.fromEntries(
  Array.from({ length: 23 }, (_, i) => [`/viberator/acme/many/p${i}`, `many-value-${i}-secret`]),
);

describe('ssm: provider, loading', () => {
  afterEach(() => {
    vi.doUnmock('@aws-sdk/client-ssm');
    vi.resetModules();
  });

  it('resolves no keys without importing the SDK, and imports it for the first key', async () => {
    vi.resetModules();
    const imported = vi.fn();
    vi.doMock('@aws-sdk/client-ssm', () => {
      imported();
      return {
        SSMClient: class {
          constructor() {
            throw new Error('stub client');
          }
        },
        GetParametersCommand: class {},
      };
    });
    const fresh = await import('./ssm-provider.js');
    const provider = fresh.ssmProvider();

    expect(await provider.resolve([])).toEqual(new Map());
    expect(imported).not.toHaveBeenCalled();
    expect(fresh.ssmClientLoaded()).toBe(false);

    // The control: the same module does import it as soon as there is a key.
    await expect(provider.resolve([ANTHROPIC])).rejects.toThrow(
      `ssm: GetParameters failed for 1 of 1 parameters: ${ANTHROPIC}: Error: stub client`,
    );
    expect(imported).toHaveBeenCalledTimes(1);
    expect(fresh.ssmClientLoaded()).toBe(true);
  });
});

describe('ssm: provider, against the SSM stand-in with the real SDK', () => {
  let standIn: SsmStandIn;
  let restoreEnv: (() => void) | undefined;
  const providers: SsmSecretProvider[] = [];
  const closers: Array<() => Promise<void>> = [];

  const provider = (opts: SsmProviderOptions = {}) => {
    const made = ssmProvider(opts);
    providers.push(made);
    return made;
  };
  const env = (overrides: Record<string, string | undefined> = {}) => {
    restoreEnv?.();
    restoreEnv = useSsmStandInEnv(standIn.url, overrides);
  };

  beforeEach(async () => {
    standIn = await startSsmStandIn({
      parameters: {
        [ANTHROPIC]: ANTHROPIC_VALUE,
        '/viberator/acme/github': 'ghp_ssm_value',
        ...MANY,
      },
    });
    env();
  });

  afterEach(async () => {
    for (const made of providers.splice(0)) made.destroy();
    restoreEnv?.();
    restoreEnv = undefined;
    await standIn.close();
    for (const close of closers.splice(0)) await close();
  });

  it('resolves a parameter with one decrypting GetParameters, signed for AWS_REGION', async () => {
    const found = await provider().resolve([ANTHROPIC, '/viberator/acme/github']);
    expect(found).toEqual(
      new Map([
        [ANTHROPIC, ANTHROPIC_VALUE],
        ['/viberator/acme/github', 'ghp_ssm_value'],
      ]),
    );
    expect(standIn.requests).toEqual([
      {
        target: 'GetParameters',
        names: [ANTHROPIC, '/viberator/acme/github'],
        withDecryption: true,
        region: 'eu-west-1',
        signed: true,
        outcome: 'answered',
      },
    ]);
  });

  it('leaves parameters AWS reports in InvalidParameters out of the map', async () => {
    const found = await provider().resolve([
      ANTHROPIC,
      '/viberator/acme/absent',
      `${ANTHROPIC}:1`,
      `${ANTHROPIC}:7`,
    ]);
    expect(found).toEqual(
      new Map([
        [ANTHROPIC, ANTHROPIC_VALUE],
        [`${ANTHROPIC}:1`, ANTHROPIC_VALUE],
      ]),
    );
  });

  it('asks for 23 keys in 3 batches of at most 10, sent at the same time', async () => {
    const keys = Object.keys(MANY);
    const found = await provider().resolve([...keys, keys[0] as string]);
    expect(found).toEqual(new Map(Object.entries(MANY)));
    expect(standIn.requests.map((r) => r.names.length).sort((a, b) => a - b)).toEqual([3, 10, 10]);
    expect(standIn.requests.flatMap((r) => r.names).sort()).toEqual([...keys].sort());
    expect(standIn.requests.every((r) => r.withDecryption === true)).toBe(true);

    // Concurrency: against an endpoint that never answers, all three are in flight at once.
    standIn.hang();
    standIn.requests.length = 0;
    const controller = new AbortController();
    const pending = provider({ timeoutMs: 30_000, signal: controller.signal }).resolve(keys);
    await vi.waitFor(() => expect(standIn.requests).toHaveLength(3), { timeout: 5_000 });
    controller.abort();
    const error = await pending.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SsmSecretError);
    expect((error as Error).message).toMatch(/failed for 23 of 23 parameters: .*: cancelled$/);
    expect(error).toMatchObject({ awsErrorName: 'AbortError', retryable: false });
  });

  it('throws a clear error naming the paths and the AWS error on AccessDenied, no value', async () => {
    const denied = `User: arn:aws:sts::123456789012:assumed-role/worker/job is not authorized to perform: ssm:GetParameters on resource: arn:aws:ssm:eu-west-1:123456789012:parameter${ANTHROPIC} because no identity-based policy allows the ssm:GetParameters action`;
    standIn.fail('GetParameters', { status: 400, type: 'AccessDeniedException', message: denied });
    const error = await provider()
      .resolve([ANTHROPIC, '/viberator/acme/github'])
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SsmSecretError);
    expect(error).toMatchObject({
      message: `ssm: GetParameters failed for 2 of 2 parameters: ${ANTHROPIC}, /viberator/acme/github: AccessDeniedException: ${denied}`,
      paths: [ANTHROPIC, '/viberator/acme/github'],
      awsErrorName: 'AccessDeniedException',
      retryable: false,
    });
    expect(standIn.requests).toHaveLength(1); // not retried
  });

  it('names only the failing batch when one of several fails, and never a found value', async () => {
    // The message of the failure quotes a value another batch found: it is scrubbed.
    standIn.fail('GetParameters', {
      status: 400,
      type: 'AccessDeniedException',
      message: `echo of ${MANY['/viberator/acme/many/p22']}`,
    });
    const error = (await provider()
      .resolve(Object.keys(MANY))
      .catch((e: unknown) => e)) as SsmSecretError;
    expect(error).toBeInstanceOf(SsmSecretError);
    expect(error.paths).toHaveLength(10);
    expect(error.message).toMatch(
      /^ssm: GetParameters failed for 10 of 23 parameters: (\/viberator\/acme\/many\/p\d+, ){9}\/viberator\/acme\/many\/p\d+: AccessDeniedException: echo of /,
    );
    for (const value of Object.values(MANY)) expect(error.message).not.toContain(value);
  });

  it('retries throttling up to 3 attempts in all, then fails retryable', async () => {
    standIn.fail(
      'GetParameters',
      { status: 400, type: 'ThrottlingException', message: 'Rate exceeded' },
      2,
    );
    await expect(provider().resolve([ANTHROPIC])).resolves.toEqual(
      new Map([[ANTHROPIC, ANTHROPIC_VALUE]]),
    );
    expect(standIn.requests.map((r) => r.outcome)).toEqual(['fault', 'fault', 'answered']);

    standIn.requests.length = 0;
    standIn.fail(
      'GetParameters',
      { status: 400, type: 'ThrottlingException', message: 'Rate exceeded' },
      5,
    );
    await expect(provider().resolve([ANTHROPIC])).rejects.toMatchObject({
      message: `ssm: GetParameters failed for 1 of 1 parameters: ${ANTHROPIC}: ThrottlingException: Rate exceeded`,
      retryable: true,
    });
    expect(standIn.requests).toHaveLength(3);
  });

  it('fails within its timeout against an endpoint that never answers', async () => {
    standIn.hang();
    const started = Date.now();
    const error = await provider({ timeoutMs: 900 })
      .resolve([ANTHROPIC])
      .catch((e: unknown) => e);
    const took = Date.now() - started;
    expect(error).toBeInstanceOf(SsmSecretError);
    expect((error as Error).message).toBe(
      `ssm: GetParameters failed for 1 of 1 parameters: ${ANTHROPIC}: no answer within 900 ms`,
    );
    expect(error).toMatchObject({ awsErrorName: 'TimeoutError', retryable: true });
    expect(took).toBeGreaterThanOrEqual(850);
    expect(took).toBeLessThan(2_000);
    // Each attempt had a third of the time: the SDK retried the stuck ones within the bound.
    expect(standIn.requests.length).toBeGreaterThanOrEqual(2);
    expect(standIn.requests.length).toBeLessThanOrEqual(3);
  });

  it('fails at once when the job was already cancelled, without a request', async () => {
    const error = await provider({ signal: AbortSignal.abort() })
      .resolve([ANTHROPIC])
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ message: expect.stringMatching(/: cancelled$/) });
    expect(standIn.requests).toHaveLength(0);
  });

  it('reports a network failure with its code, retryable', async () => {
    const gone = await startSsmStandIn({ parameters: {} });
    const url = gone.url;
    await gone.close();
    env({ AWS_ENDPOINT_URL_SSM: url });
    await expect(provider().resolve([ANTHROPIC])).rejects.toMatchObject({
      message: expect.stringContaining(`${ANTHROPIC}: ECONNREFUSED: `),
      awsErrorName: 'ECONNREFUSED',
      retryable: true,
    });
  });

  it('uses AWS_ENDPOINT_URL_SSM before AWS_ENDPOINT_URL', async () => {
    const trap = await startTrapServer();
    closers.push(trap.close);
    env({ AWS_ENDPOINT_URL: trap.url });
    await expect(provider().resolve([ANTHROPIC])).resolves.toHaveProperty('size', 1);
    expect(trap.requests).toEqual([]);
    expect(standIn.requests).toHaveLength(1);
  });

  it('takes the region from the options, and us-east-1 only when the SDK finds none', async () => {
    await provider({ region: 'ap-south-1' }).resolve([ANTHROPIC]);
    env({ AWS_REGION: undefined });
    await expect(provider().resolve([ANTHROPIC])).resolves.toHaveProperty('size', 1);
    expect(standIn.requests.map((r) => r.region)).toEqual(['ap-south-1', 'us-east-1']);
  });

  it('writes nothing to the console or the standard streams', async () => {
    const written: string[] = [];
    const spies = [
      ...(['log', 'info', 'warn', 'error', 'debug'] as const).map((level) =>
        vi.spyOn(console, level).mockImplementation((...args: unknown[]) => {
          written.push(args.map(String).join(' '));
        }),
      ),
      vi.spyOn(process.stdout, 'write').mockImplementation((chunk: any) => {
        written.push(String(chunk));
        return true;
      }),
      vi.spyOn(process.stderr, 'write').mockImplementation((chunk: any) => {
        written.push(String(chunk));
        return true;
      }),
    ];
    try {
      standIn.fail('GetParameters', { status: 500, type: 'InternalServerError' }, 1);
      await provider().resolve([ANTHROPIC, ...Object.keys(MANY)]);
    } finally {
      for (const spy of spies) spy.mockRestore();
    }
    const all = written.join('\n');
    for (const value of [ANTHROPIC_VALUE, ...Object.values(MANY)]) {
      expect(all).not.toContain(value);
    }
  });
});
