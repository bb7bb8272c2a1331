/**
 * s3rver on 127.0.0.1 for the tests that read payloads from or write artifacts to S3: the
 * real S3 protocol, with the one access key s3rver accepts. `env` is what the worker needs to
 * reach it; `client` is the SDK client a test uses to put or read objects.
 */
import { S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';
import { tempDir } from './run-cli.js';

export interface S3StandIn {
  endpoint: string;
  /** The worker's variables for this S3 (endpoint, credentials, region, path style). */
  env: Record<string, string>;
  client: S3Client;
  close(): Promise<void>;
}

export async function startS3StandIn(buckets: string[]): Promise<S3StandIn> {
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory: await tempDir('viberator-s3-'),
    configureBuckets: buckets.map((name) => ({ name, configs: [] })),
  });
  const { port } = (await server.run()) as { port: number };
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  });
  return {
    endpoint,
    env: {
      AWS_ENDPOINT_URL_S3: endpoint,
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
      AWS_REGION: 'us-east-1',
      AWS_EC2_METADATA_DISABLED: 'true',
      VIBERATOR_S3_FORCE_PATH_STYLE: 'true',
    },
    client,
    async close() {
      client.destroy();
      await server.close();
    },
  };
}
