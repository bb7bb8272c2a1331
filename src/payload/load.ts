import { readFile } from 'node:fs/promises';
import { WorkerError } from '../errors.js';
import { readS3Text } from './s3.js';
import { type ValidatedPayload, validatePayloadText } from './validate.js';

/** Reads all of stdin as text. */
async function readStdin(stdin: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  return Buffer.concat(chunks).toString('utf8');
}

/** The jobId of a payload that may not validate, so its Result can still name the job. */
export function jobIdOf(text: string): string | undefined {
  try {
    const jobId = (JSON.parse(text) as { jobId?: unknown } | null)?.jobId;
    return typeof jobId === 'string' && jobId.length <= 128 ? jobId : undefined;
  } catch {
    return undefined;
  }
}

/** Reads payload text from a path, `-` (stdin) or `s3://bucket/key`. */
export async function readPayloadText(
  source: string,
  stdin: NodeJS.ReadableStream = process.stdin,
): Promise<string> {
  try {
    if (source === '-') return await readStdin(stdin);
    if (source.startsWith('s3://')) return await readS3Text(source);
    return await readFile(source, 'utf8');
  } catch (error) {
    const reason = (error as { name?: string; message?: string }).message ?? String(error);
    throw new WorkerError(
      'invalid_payload',
      `invalid payload: could not read ${source}: ${reason}`,
      {
        cause: error,
      },
    );
  }
}

/** Reads and validates a payload from a path, stdin or S3. */
export async function loadPayload(
  source: string,
  stdin?: NodeJS.ReadableStream,
): Promise<ValidatedPayload> {
  return validatePayloadText(
    await readPayloadText(source, stdin),
    source === '-' ? 'stdin' : source,
  );
}
