import { WorkerError } from '../errors.js';
import { secretForms } from '../secrets/redactor.js';
import { quotePath } from './change-limits.js';
import { git } from './git-runner.js';
import type { ChangeEntry } from './import-change.js';
import type { GitSetup } from './repository.js';
import { display } from './stage-change.js';

/** Shorter values match ordinary bytes by chance; they are not scanned for. */
const MIN_SCANNED_LENGTH = 8;
/** Blobs are read from git in batches of about this many bytes. */
const BATCH_BYTES = 64 * 1024 * 1024;

interface Needle {
  name: string;
  bytes: Buffer;
}

/**
 * Every byte form a secret is looked for in: the redactor's (raw, URL-encoded, base64 at
 * each alignment, JSON-escaped, Basic credentials), plus hexadecimal and UTF-16 — cheap to
 * add, and the next trick after base64.
 */
export function secretNeedles(secrets: Array<{ name: string; value: string }>): Needle[] {
  const seen = new Set<string>();
  const needles: Needle[] = [];
  const add = (name: string, bytes: Buffer) => {
    const key = bytes.toString('hex');
    if (bytes.length < MIN_SCANNED_LENGTH || seen.has(key)) return;
    seen.add(key);
    needles.push({ name, bytes });
  };
  for (const { name, value } of secrets) {
    if (value.length < MIN_SCANNED_LENGTH) continue;
    for (const form of secretForms(value)) add(name, Buffer.from(form, 'utf8'));
    const raw = Buffer.from(value, 'utf8');
    add(name, Buffer.from(raw.toString('hex'), 'latin1'));
    add(name, Buffer.from(raw.toString('hex').toUpperCase(), 'latin1'));
    add(name, Buffer.from(value, 'utf16le'));
    add(name, Buffer.from(value, 'utf16le').swap16());
  }
  return needles;
}

/**
 * Fails the push, naming each secret and where it was found (never its value), when any
 * byte of the change carries a secret the worker knows: every new blob read raw from the
 * worker's own objects (text or binary, whatever `.gitattributes` says: no filter, no diff
 * driver), every changed path, and the commit message.
 */
export async function refuseSecretsInChange(
  setup: GitSetup,
  entries: ChangeEntry[],
  message: string,
  secrets: Array<{ name: string; value: string }>,
): Promise<void> {
  const needles = secretNeedles(secrets);
  if (needles.length === 0) return;
  const hits = new Map<string, Set<string>>();
  const scan = (data: Buffer, where: string) => {
    for (const needle of needles) {
      if (data.includes(needle.bytes)) {
        const places = hits.get(needle.name) ?? new Set<string>();
        places.add(where);
        hits.set(needle.name, places);
      }
    }
  };
  scan(Buffer.from(message, 'utf8'), 'the commit message');
  const blobs = entries.filter((entry) => entry.status !== 'D');
  for (const entry of entries) scan(Buffer.from(entry.path, 'latin1'), 'a file name');
  for (const batch of batches(blobs)) {
    const contents = await readBlobs(setup, batch);
    batch.forEach((entry, index) => {
      const data = contents[index];
      if (data) scan(data, quotePath(display(entry.path)));
    });
  }
  if (hits.size === 0) return;
  const where = [...hits].map(([name, places]) => {
    const list = [...places];
    const shown = list.slice(0, 10).join(', ');
    return `${name} (in ${shown}${list.length > 10 ? ` and ${list.length - 10} more` : ''})`;
  });
  throw new WorkerError(
    'push_failed',
    `push refused: the change contains the value of secret ${where.join('; ')}; nothing was pushed — tell the agent not to write credentials into the repository`,
    { retryable: false },
  );
}

function* batches(entries: ChangeEntry[]): Generator<ChangeEntry[]> {
  let batch: ChangeEntry[] = [];
  let bytes = 0;
  for (const entry of entries) {
    if (batch.length > 0 && bytes + entry.size > BATCH_BYTES) {
      yield batch;
      batch = [];
      bytes = 0;
    }
    batch.push(entry);
    bytes += entry.size;
  }
  if (batch.length > 0) yield batch;
}

/** The raw contents of blobs, in order, through one `git cat-file --batch`. */
async function readBlobs(setup: GitSetup, entries: ChangeEntry[]): Promise<Buffer[]> {
  const out = await git(setup, ['cat-file', '--batch'], {
    objectsOnly: true,
    bytes: true,
    input: `${entries.map((entry) => entry.newSha).join('\n')}\n`,
  });
  const data = out.stdoutBytes ?? Buffer.alloc(0);
  const blobs: Buffer[] = [];
  let at = 0;
  while (at < data.length) {
    const eol = data.indexOf(0x0a, at);
    if (eol === -1) break;
    const [, , size] = data.subarray(at, eol).toString('latin1').split(' ');
    const length = Number(size);
    if (!Number.isFinite(length)) break; // "<id> missing": checked at import already
    blobs.push(data.subarray(eol + 1, eol + 1 + length));
    at = eol + 1 + length + 1;
  }
  return blobs;
}
