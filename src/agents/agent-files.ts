/**
 * Reading files an agent wrote (its session logs) from the worker's side: the agent is
 * untrusted, so no link is followed — not for the directories walked, not for the file read —
 * and what is read is bounded.
 */
import { constants } from 'node:fs';
import { lstat, open, readdir } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Regular files named `name` under `root`, at most `depth` directories down; links skipped.
 * At most `budget` entries are looked at: the agent decides how large the tree is.
 */
export async function findAgentFiles(
  root: string,
  name: string,
  depth: number,
  budget = { entries: 2000 },
): Promise<string[]> {
  const info = await lstat(root).catch(() => undefined);
  if (!info?.isDirectory()) return [];
  const found: string[] = [];
  for (const entry of await readdir(root).catch(() => [])) {
    if (--budget.entries < 0) break;
    const path = join(root, entry);
    const child = await lstat(path).catch(() => undefined);
    if (child?.isFile() && entry === name) found.push(path);
    else if (child?.isDirectory() && depth > 0)
      found.push(...(await findAgentFiles(path, name, depth - 1, budget)));
  }
  return found;
}

/** The text of a regular file (never through a link), or undefined when larger than `limit`. */
export async function readAgentFile(path: string, limit: number): Promise<string | undefined> {
  const handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW).catch(() => undefined);
  if (!handle) return undefined;
  try {
    const info = await handle.stat();
    if (!info.isFile() || info.size > limit) return undefined;
    return await handle.readFile('utf8');
  } finally {
    await handle.close();
  }
}
