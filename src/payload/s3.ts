import type { S3Client } from '@aws-sdk/client-s3';

/** Parses `s3://bucket/key`. */
export function parseS3Uri(uri: string): { bucket: string; key: string } {
  const match = /^s3:\/\/([^/]+)\/(.*)$/.exec(uri);
  if (!match?.[1]) throw new Error(`not an s3:// URI: ${uri}`);
  return { bucket: match[1], key: match[2] ?? '' };
}

let client: Promise<S3Client> | undefined;

/**
 * One S3 client per process, loaded on first use: the SDK is heavy and most jobs never touch
 * S3. The endpoint comes from the SDK's own `AWS_ENDPOINT_URL_S3`; path style from
 * `VIBERATOR_S3_FORCE_PATH_STYLE` (local S3 servers).
 */
export function s3Client(env: NodeJS.ProcessEnv = process.env): Promise<S3Client> {
  client ??= import('@aws-sdk/client-s3').then(
    ({ S3Client }) =>
      new S3Client({
        forcePathStyle: env.VIBERATOR_S3_FORCE_PATH_STYLE === 'true',
        // Local S3 servers store the chunk framing of streamed checksums as data.
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
      }),
  );
  return client;
}

/** Reads an S3 object as UTF-8 text. */
export async function readS3Text(uri: string): Promise<string> {
  const { bucket, key } = parseS3Uri(uri);
  const { GetObjectCommand } = await import('@aws-sdk/client-s3');
  const response = await (await s3Client()).send(
    new GetObjectCommand({ Bucket: bucket, Key: key }),
  );
  if (!response.Body) throw new Error(`s3://${bucket}/${key} has no body`);
  return response.Body.transformToString('utf8');
}

/** Writes UTF-8 text to `<prefix>/<name>` of an `s3://bucket/prefix/` location; returns its URI. */
export async function writeS3Text(
  prefixUri: string,
  name: string,
  text: string,
  contentType = 'application/json',
): Promise<string> {
  const { bucket, key } = parseS3Uri(prefixUri);
  const objectKey = `${key.replace(/\/*$/, '/')}${name}`.replace(/^\//, '');
  const { PutObjectCommand } = await import('@aws-sdk/client-s3');
  await (await s3Client()).send(
    new PutObjectCommand({ Bucket: bucket, Key: objectKey, Body: text, ContentType: contentType }),
  );
  return `s3://${bucket}/${objectKey}`;
}
