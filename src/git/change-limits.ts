import { WorkerError } from '../errors.js';
import { quotePath as gitQuotePath } from '../inert-text.js';

/**
 * Bounds of what the worker takes over from the agent (runtime.md, "Bounded, whatever the
 * agent left"): the bytes of changed files (a sparse file counts at its full size), each
 * file's size, how many files changed, and how long staging them may take.
 */
export interface ChangeLimits {
  /** `VIBERATOR_MAX_FILE_SIZE`: the largest file a change may add (GitHub's 100 MiB). */
  maxFileBytes: number;
  /** `VIBERATOR_MAX_CHANGE_SIZE`: all changed files together. */
  maxTotalBytes: number;
  /** `VIBERATOR_MAX_CHANGED_FILES`: files added or modified. */
  maxFiles: number;
  /** `VIBERATOR_STAGE_TIMEOUT`: staging and checking what the agent left, in ms. */
  stageMs: number;
}

export const DEFAULT_CHANGE_LIMITS: ChangeLimits = {
  maxFileBytes: 100 * 1024 * 1024,
  maxTotalBytes: 1024 * 1024 * 1024,
  maxFiles: 50_000,
  stageMs: 300_000,
};

/** One file of the change and its size in bytes (its full size, holes included). */
export interface SizedPath {
  path: string;
  size: number;
}

/** Bytes for people: `3.0 GiB`, `101 MiB`, `600 kB`... */
export function formatBytes(bytes: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} bytes` : `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

/** A limit hit: `push_failed`, not retryable (the same change fails the same way). */
export function limitError(message: string): WorkerError {
  return new WorkerError(
    'push_failed',
    `the agent's change cannot be pushed: ${message}; nothing was pushed`,
    { retryable: false, step: 'committing' },
  );
}

/**
 * Checks a change against the limits; throws {@link limitError} naming the limit's variable
 * and the path (the first file over the per-file size, or the file at which a total ran over).
 */
export function checkChangeLimits(files: SizedPath[], limits: ChangeLimits): void {
  const tooBig = files.filter((file) => file.size > limits.maxFileBytes);
  if (tooBig.length > 0) {
    const [first] = tooBig as [SizedPath];
    const others = tooBig.length > 1 ? ` (and ${tooBig.length - 1} more such files)` : '';
    throw limitError(
      `${quotePath(first.path)} is ${formatBytes(first.size)}, over the limit of ${formatBytes(limits.maxFileBytes)} per file (VIBERATOR_MAX_FILE_SIZE)${others}`,
    );
  }
  if (files.length > limits.maxFiles) {
    throw limitError(
      `${files.length} files changed, over the limit of ${limits.maxFiles} (VIBERATOR_MAX_CHANGED_FILES); the first over it is ${quotePath(files[limits.maxFiles]?.path ?? '')}`,
    );
  }
  let total = 0;
  for (const file of files) {
    total += file.size;
    if (total > limits.maxTotalBytes) {
      throw limitError(
        `the changed files come to more than ${formatBytes(limits.maxTotalBytes)} (VIBERATOR_MAX_CHANGE_SIZE), reached at ${quotePath(file.path)}`,
      );
    }
  }
}

/**
 * A path as one inert line for messages and logs: git's quoting of hidden characters
 * (src/inert-text.ts), always in double quotes so it stands apart from the words around it,
 * cut when very long.
 */
export function quotePath(path: string): string {
  const quoted = gitQuotePath(path.length > 300 ? `${path.slice(0, 300)}…` : path);
  return quoted.startsWith('"') ? quoted : `"${quoted}"`;
}
