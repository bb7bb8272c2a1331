import { join } from 'node:path';
import { branchNameProblem } from './branch-name.js';
import { isRealDir, readAgentFile } from './read-agent-file.js';

const OBJECT_ID = /^[0-9a-f]{40}([0-9a-f]{24})?$/;

/**
 * Reads the commit the agent's checkout ended on, treating its git dir strictly as data:
 * HEAD and the ref it names are read as plain files (a link anywhere is refused, a FIFO never
 * opened), and no git command ever runs in that git dir, so nothing the agent put in its
 * config, hooks or attributes can act. Returns undefined when there is nothing readable.
 */
export async function agentHead(checkout: string): Promise<string | undefined> {
  return readHead(join(checkout, '.git'));
}

/**
 * The commit HEAD of a git dir points at, read as plain files (loose ref, else packed-refs);
 * also the cheap way to read the worker's own HEAD without starting a git process.
 */
export async function readHead(gitDir: string): Promise<string | undefined> {
  if (!(await isRealDir(gitDir))) return undefined;
  const head = await readSmallText(join(gitDir, 'HEAD'));
  if (head === undefined) return undefined;
  if (OBJECT_ID.test(head)) return head;
  const ref = /^ref: (refs\/heads\/\S+)$/.exec(head)?.[1];
  if (!ref || branchNameProblem(ref.slice('refs/heads/'.length))) return undefined;
  let dir = gitDir;
  for (const part of ref.split('/').slice(0, -1)) {
    dir = join(dir, part);
    if (!(await isRealDir(dir))) return packedRef(gitDir, ref);
  }
  const loose = await readSmallText(join(gitDir, ref));
  if (loose !== undefined) return OBJECT_ID.test(loose) ? loose : undefined;
  return packedRef(gitDir, ref);
}

async function packedRef(gitDir: string, ref: string): Promise<string | undefined> {
  const text = await readSmallText(join(gitDir, 'packed-refs'), 16 * 1024 * 1024);
  for (const line of text?.split('\n') ?? []) {
    const [id, name] = line.split(' ');
    if (name === ref && id && OBJECT_ID.test(id)) return id;
  }
  return undefined;
}

async function readSmallText(path: string, limit = 4096): Promise<string | undefined> {
  return (await readAgentFile(path, limit))?.toString('utf8').trim();
}
