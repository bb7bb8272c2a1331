import { constants } from 'node:fs';
import { lstat, open } from 'node:fs/promises';

/**
 * Reads a file the agent could have written, as plain data with the worker's privileges
 * (runtime.md, "The agent is untrusted"): the last component is opened with `O_NOFOLLOW`
 * (a link is refused, never followed) and `O_NONBLOCK` (a FIFO cannot hold the worker),
 * only a regular file is read, and only up to `limit` bytes. Returns undefined for anything
 * else: missing, a link, a FIFO, socket or device, a directory, or a file over the limit.
 *
 * The directories above it must already be known to be real directories (see
 * {@link isRealDir}): `O_NOFOLLOW` guards the last component only.
 */
export async function readAgentFile(path: string, limit: number): Promise<Buffer | undefined> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
  try {
    const info = await handle.stat();
    if (!info.isFile() || info.size > limit) return undefined;
    const buffer = Buffer.alloc(info.size);
    const { bytesRead } = await handle.read(buffer, 0, info.size, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/** True when `path` itself (not what a link there points to) is a directory. */
export async function isRealDir(path: string): Promise<boolean> {
  const info = await lstat(path).catch(() => undefined);
  return Boolean(info?.isDirectory());
}
