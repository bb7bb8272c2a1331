import { GetParameterCommand, GetParametersCommand, SSMClient } from '@aws-sdk/client-ssm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type SsmStandIn, startSsmStandIn, useSsmStandInEnv } from './ssm-stand-in.js';

const VALUE = 'sk-ant-stand-in-value-0123456789';

describe('SSM stand-in, with the real SDK client', () => {
  let standIn: SsmStandIn;
  let restoreEnv: () => void;
  let client: SSMClient;

  beforeEach(async () => {
    standIn = await startSsmStandIn({
      parameters: { '/viberator/acme/anthropic': VALUE, '/viberator/acme/other': 'other-value' },
    });
    restoreEnv = useSsmStandInEnv(standIn.url);
    client = new SSMClient({ maxAttempts: 1 }); // endpoint and region from the environment
  });

  afterEach(async () => {
    client.destroy();
    restoreEnv();
    await standIn.close();
  });

  it('answers GetParameter, decrypted or as ciphertext, and records no value', async () => {
    const decrypted = await client.send(
      new GetParameterCommand({ Name: '/viberator/acme/anthropic', WithDecryption: true }),
    );
    expect(decrypted.Parameter).toMatchObject({
      Name: '/viberator/acme/anthropic',
      Type: 'SecureString',
      Value: VALUE,
      Version: 1,
      ARN: 'arn:aws:ssm:eu-west-1:123456789012:parameter/viberator/acme/anthropic',
    });
    expect(decrypted.Parameter?.LastModifiedDate).toBeInstanceOf(Date);

    const encrypted = await client.send(
      new GetParameterCommand({ Name: '/viberator/acme/anthropic' }),
    );
    expect(encrypted.Parameter?.Value).not.toBe(VALUE);

    expect(standIn.requests).toEqual([
      {
        target: 'GetParameter',
        names: ['/viberator/acme/anthropic'],
        withDecryption: true,
        region: 'eu-west-1',
        signed: true,
        outcome: 'answered',
      },
      expect.objectContaining({ target: 'GetParameter', withDecryption: undefined }),
    ]);
    expect(JSON.stringify(standIn.requests)).not.toContain(VALUE);
  });

  it('makes the SDK throw ParameterNotFound for an unknown GetParameter name', async () => {
    const failure = await client
      .send(new GetParameterCommand({ Name: '/viberator/nope', WithDecryption: true }))
      .catch((error: unknown) => error);
    expect(failure).toMatchObject({
      name: 'ParameterNotFound',
      $metadata: { httpStatusCode: 400 },
    });
  });

  it('answers GetParameters with Parameters and InvalidParameters, selectors included', async () => {
    const answer = await client.send(
      new GetParametersCommand({
        Names: ['/viberator/acme/anthropic', '/viberator/missing', '/viberator/acme/other:1'],
        WithDecryption: true,
      }),
    );
    expect(answer.InvalidParameters).toEqual(['/viberator/missing']);
    expect(answer.Parameters?.map((p) => [p.Name, p.Selector, p.Value])).toEqual([
      ['/viberator/acme/anthropic', undefined, VALUE],
      ['/viberator/acme/other', ':1', 'other-value'],
    ]);
  });

  it('refuses more than 10 names, as AWS does', async () => {
    const names = Array.from({ length: 11 }, (_, i) => `/viberator/p${i}`);
    await expect(client.send(new GetParametersCommand({ Names: names }))).rejects.toMatchObject({
      name: 'ValidationException',
    });
  });

  it('serves scripted faults the given number of times, then answers again', async () => {
    standIn.fail(
      'AmazonSSM.GetParameters',
      { status: 400, type: 'AccessDeniedException', message: 'not authorized' },
      2,
    );
    const send = () => client.send(new GetParametersCommand({ Names: ['/viberator/acme/other'] }));
    for (let i = 0; i < 2; i++) {
      await expect(send()).rejects.toMatchObject({
        name: 'AccessDeniedException',
        message: 'not authorized',
        $fault: 'client',
      });
    }
    await expect(send()).resolves.toMatchObject({ InvalidParameters: [] });
    // A fault for one operation leaves the other alone.
    standIn.fail('GetParameter', { status: 500, type: 'InternalServerError' });
    await expect(send()).resolves.toMatchObject({ InvalidParameters: [] });
    expect(standIn.requests.map((r) => r.outcome)).toEqual([
      'fault',
      'fault',
      'answered',
      'answered',
    ]);
  });

  it('refuses a request without a SigV4 Authorization header or with the wrong content type', async () => {
    const post = (headers: Record<string, string>) =>
      fetch(`${standIn.url}/`, {
        method: 'POST',
        headers: { 'x-amz-target': 'AmazonSSM.GetParameters', ...headers },
        body: JSON.stringify({ Names: ['/viberator/acme/anthropic'], WithDecryption: true }),
      });
    const unsigned = await post({ 'content-type': 'application/x-amz-json-1.1' });
    expect(unsigned.status).toBe(400);
    expect(await unsigned.json()).toMatchObject({ __type: 'MissingAuthenticationTokenException' });

    const authorization = `AWS4-HMAC-SHA256 Credential=AKIA/20260101/eu-west-1/ssm/aws4_request, SignedHeaders=host, Signature=${'0'.repeat(64)}`;
    const wrongType = await post({ 'content-type': 'application/json', authorization });
    expect(wrongType.status).toBe(400);
    expect(await wrongType.json()).toMatchObject({ __type: 'SerializationException' });

    const s3Scope = await post({
      'content-type': 'application/x-amz-json-1.1',
      authorization: authorization.replace('/ssm/', '/s3/'),
    });
    expect(await s3Scope.json()).toMatchObject({ __type: 'IncompleteSignatureException' });
    expect(standIn.requests.map((r) => [r.signed, r.outcome])).toEqual([
      [false, 'rejected'],
      [true, 'rejected'],
      [false, 'rejected'],
    ]);
  });

  it('accepts requests and never answers them once told to hang', async () => {
    standIn.hang();
    const started = Date.now();
    const failure = await client
      .send(new GetParametersCommand({ Names: ['/viberator/acme/anthropic'] }), {
        abortSignal: AbortSignal.timeout(300),
      })
      .catch((error: unknown) => error);
    expect(failure).toMatchObject({ name: 'AbortError' });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(standIn.requests).toEqual([expect.objectContaining({ outcome: 'hung' })]);
  });
});
