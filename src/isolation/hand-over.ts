import { chmod, lchown, lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { AgentIdentity } from './agent-identity.js';

/**
 * Gives the agent user what the worker wrote for it (config, instructions, skills): owned by
 * the agent when the worker is root; readable through the agent's group with sudo. Links are
 * never followed.
 */
export async function handOverToAgent(identity: AgentIdentity, path: string): Promise<void> {
  if (identity.mode === 'same-user') return;
  const info = await lstat(path).catch(() => undefined);
  if (!info || info.isSymbolicLink()) return;
  if (identity.mode === 'root') await lchown(path, identity.uid, identity.gid);
  else await chmod(path, (info.mode & 0o7777) | (info.isDirectory() ? 0o050 : 0o040));
  if (info.isDirectory()) {
    for (const entry of await readdir(path)) await handOverToAgent(identity, join(path, entry));
  }
}
