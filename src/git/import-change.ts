import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { WorkerError } from '../errors.js';
import { type ChangeLimits, checkChangeLimits, limitError } from './change-limits.js';
import { GitCommandError, type GitSetup, git } from './git-runner.js';
import { gitHeadline } from './repository.js';
import type { StagedChange } from './stage-change.js';

/** One path of the change between the base commit and the staged tree. */
export interface ChangeEntry {
  /** The path as a byte string (latin1): file names need not be UTF-8. */
  path: string;
  /** `A`dded, `M`odified, `D`eleted, `T`ype changed. */
  status: string;
  oldMode: string;
  newMode: string;
  newSha: string;
  /** Size of the new blob in bytes (0 for a deletion). */
  size: number;
}

const GITLINK = '160000';
/** A pack holds the change's bytes compressed, plus headers: never much more than its files. */
const PACK_SLACK = 64 * 1024 * 1024;

/**
 * Takes the staged objects over into the worker's git dir and checks them before anything
 * else reads them: the pack (written by the agent user) is opened as data (no link, no FIFO,
 * bounded size) and fed to `git index-pack --strict`, which verifies every object and its
 * connectivity; then, in the worker's own objects, the change between the base and the
 * staged tree must bring no gitlink the base did not have and stay within the limits
 * (the sizes of the real blobs, whatever the survey saw). Returns the change, path by path.
 */
export async function importStagedChange(
  setup: GitSetup,
  staged: StagedChange,
  baseSha: string,
  limits: ChangeLimits,
): Promise<ChangeEntry[]> {
  await indexPack(setup, staged.packPath, limits.maxTotalBytes + PACK_SLACK);
  const entries = await diffTree(setup, baseSha, staged.tree);
  const added = entries.filter(
    (entry) => entry.newMode === GITLINK && entry.status !== 'M' && entry.status !== 'D',
  );
  const changedLink = entries.filter((entry) => entry.newMode === GITLINK && entry.status === 'M');
  if (added.length > 0 || changedLink.length > 0) {
    throw new WorkerError(
      'push_failed',
      `the agent's change would add or move a gitlink (${[...added, ...changedLink].map((e) => e.path).join(', ')}), which the base commit did not have: nested repositories are never committed; nothing was pushed`,
      { retryable: false, step: 'committing' },
    );
  }
  await sizeBlobs(setup, entries);
  checkChangeLimits(
    entries.filter((entry) => entry.status !== 'D'),
    limits,
  );
  return entries;
}

async function indexPack(setup: GitSetup, packPath: string, maxBytes: number): Promise<void> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(packPath, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    throw stagingBroken('the staged pack is missing');
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw stagingBroken('the staged pack is not a regular file');
    if (info.size > maxBytes) {
      throw limitError(
        `the staged objects take more than ${Math.round(maxBytes / 1024 / 1024)} MiB (VIBERATOR_MAX_CHANGE_SIZE)`,
      );
    }
    await git(setup, ['index-pack', '--strict', '--stdin', `--max-input-size=${maxBytes}`], {
      objectsOnly: true,
      inputFd: handle.fd,
    });
  } catch (error) {
    if (error instanceof WorkerError) throw error;
    // git's words about objects the agent wrote: nothing it could not read itself.
    const words = error instanceof GitCommandError ? error.stderr : String(error);
    throw stagingBroken(
      `git index-pack --strict refused the staged objects: ${gitHeadline(words)}`,
    );
  } finally {
    await handle.close();
  }
}

function stagingBroken(why: string): WorkerError {
  return new WorkerError('push_failed', `the agent's change failed the worker's checks: ${why}`, {
    retryable: false,
    step: 'committing',
  });
}

/** `git diff-tree -r -z --raw` between the base commit and the staged tree, parsed. */
async function diffTree(setup: GitSetup, baseSha: string, tree: string): Promise<ChangeEntry[]> {
  const out = await git(setup, ['diff-tree', '-r', '-z', '--no-renames', baseSha, tree], {
    objectsOnly: true,
    bytes: true,
  });
  const fields = (out.stdoutBytes ?? Buffer.alloc(0)).toString('latin1').split('\0');
  const entries: ChangeEntry[] = [];
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const meta = /^:(\d{6}) (\d{6}) [0-9a-f]+ ([0-9a-f]+) ([A-Z])/.exec(fields[i] ?? '');
    if (!meta) break;
    entries.push({
      oldMode: meta[1] ?? '',
      newMode: meta[2] ?? '',
      newSha: meta[3] ?? '',
      status: meta[4] ?? '',
      path: fields[i + 1] ?? '',
      size: 0,
    });
  }
  return entries;
}

/** Fills in each new blob's size, from the worker's own objects. */
async function sizeBlobs(setup: GitSetup, entries: ChangeEntry[]): Promise<void> {
  const blobs = entries.filter((entry) => entry.status !== 'D');
  if (blobs.length === 0) return;
  const out = await git(
    setup,
    ['cat-file', '--batch-check=%(objectname) %(objecttype) %(objectsize)'],
    { objectsOnly: true, input: `${blobs.map((entry) => entry.newSha).join('\n')}\n` },
  );
  const sizes = new Map<string, number>();
  for (const line of out.stdout.split('\n')) {
    const [id, type, size] = line.split(' ');
    if (id && type === 'blob') sizes.set(id, Number(size));
  }
  for (const entry of blobs) {
    const size = sizes.get(entry.newSha);
    if (size === undefined) throw stagingBroken(`the blob of ${entry.path} is missing`);
    entry.size = size;
  }
}
