import { copyFile, lstat, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { branchNameProblem } from './branch-name.js';
import { git } from './git-runner.js';
import type { GitSetup } from './repository.js';

const OBJECT_ID = /^[0-9a-f]{40}([0-9a-f]{24})?$/;
const LOOSE_DIR = /^[0-9a-f]{2}$/;
const LOOSE_FILE = /^[0-9a-f]{38}([0-9a-f]{24})?$/;
const PACK_FILE = /^pack-[0-9a-f]{40,64}\.(pack|idx)$/;

/**
 * Reads the commit the agent's checkout ended on, treating its git dir strictly as data:
 * HEAD and the ref it names are read as plain files (a symlink anywhere is refused), and no
 * git command ever runs in that git dir, so nothing the agent put in its config, hooks or
 * attributes can act. Returns undefined when there is nothing readable.
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
  const head = await readSmallFile(join(gitDir, 'HEAD'));
  if (head === undefined) return undefined;
  if (OBJECT_ID.test(head)) return head;
  const ref = /^ref: (refs\/heads\/\S+)$/.exec(head)?.[1];
  if (!ref || branchNameProblem(ref.slice('refs/heads/'.length))) return undefined;
  let dir = gitDir;
  for (const part of ref.split('/').slice(0, -1)) {
    dir = join(dir, part);
    if (!(await isRealDir(dir))) return packedRef(gitDir, ref);
  }
  const loose = await readSmallFile(join(gitDir, ref));
  if (loose !== undefined) return OBJECT_ID.test(loose) ? loose : undefined;
  return packedRef(gitDir, ref);
}

async function packedRef(gitDir: string, ref: string): Promise<string | undefined> {
  const text = await readSmallFile(join(gitDir, 'packed-refs'), 16 * 1024 * 1024);
  for (const line of text?.split('\n') ?? []) {
    const [id, name] = line.split(' ');
    if (name === ref && id && OBJECT_ID.test(id)) return id;
  }
  return undefined;
}

/**
 * Copies the objects the agent's git dir holds (loose objects and packs, regular files only;
 * never its `info/alternates`, which could point anywhere) into `dest`, a directory of the
 * worker's, and lists `dest` as an alternate of the worker's git dir.
 */
export async function adoptAgentObjects(
  setup: GitSetup,
  checkout: string,
  dest: string,
): Promise<void> {
  const objects = join(checkout, '.git', 'objects');
  if (!(await isRealDir(objects))) return;
  await mkdir(join(dest, 'pack'), { recursive: true, mode: 0o700 });
  for (const entry of await readdir(objects)) {
    const dir = join(objects, entry);
    if (entry === 'pack') {
      if (!(await isRealDir(dir))) continue;
      for (const file of await readdir(dir)) {
        if (PACK_FILE.test(file)) await copyRegular(join(dir, file), join(dest, 'pack', file));
      }
    } else if (LOOSE_DIR.test(entry) && (await isRealDir(dir))) {
      for (const file of await readdir(dir)) {
        if (!LOOSE_FILE.test(file)) continue;
        await mkdir(join(dest, entry), { recursive: true, mode: 0o700 });
        await copyRegular(join(dir, file), join(dest, entry, file));
      }
    }
  }
  await writeFile(join(setup.gitDir, 'objects', 'info', 'alternates'), `${dest}\n`);
}

/**
 * Moves the work branch to the agent's last commit when that commit exists and descends from
 * the base; otherwise the agent's commits are left out (its files still count: the worker
 * commits what is in the tree). Returns whether the agent's commits were taken.
 */
export async function takeAgentCommits(
  setup: GitSetup,
  baseSha: string,
  head: string,
): Promise<boolean> {
  if (head === baseSha) return false;
  const type = await git(setup, ['cat-file', '-t', head], { okExitCodes: [1, 128] });
  if (type.exitCode !== 0 || type.stdout.trim() !== 'commit') return false;
  const descends = await git(setup, ['merge-base', '--is-ancestor', baseSha, head], {
    okExitCodes: [1, 128],
  });
  if (descends.exitCode !== 0) return false;
  await git(setup, ['update-ref', 'HEAD', head]);
  // A mixed reset keeps the cached file stats of paths the commits did not touch.
  await git(setup, ['reset', '--quiet', '--mixed', head]);
  return true;
}

async function copyRegular(from: string, to: string): Promise<void> {
  const info = await lstat(from).catch(() => undefined);
  if (info?.isFile()) await copyFile(from, to);
}

async function isRealDir(path: string): Promise<boolean> {
  const info = await lstat(path).catch(() => undefined);
  return Boolean(info?.isDirectory());
}

async function readSmallFile(path: string, limit = 4096): Promise<string | undefined> {
  const info = await lstat(path).catch(() => undefined);
  if (!info?.isFile() || info.size > limit) return undefined;
  return (await readFile(path, 'utf8')).trim();
}
