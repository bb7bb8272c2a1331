import {
  chmod,
  chown,
  copyFile,
  lchown,
  lstat,
  mkdir,
  readdir,
  rm,
  writeFile,
} from 'node:fs/promises';
import { join } from 'node:path';
import type { AgentIdentity } from '../isolation/agent-identity.js';

/** The places of one staging run, all inside `<workspace>/stage`. */
export interface StageDir {
  root: string;
  /** The staging git dir: borrows the worker's objects, writes its own. */
  gitDir: string;
  /** HOME of the staging git processes: empty, nothing of anyone's config. */
  home: string;
}

/**
 * Makes a fresh staging area for git run as the agent user, once every agent process is
 * gone: a git dir of its own whose config, HEAD and index the worker writes (the index is
 * the worker's, made before the agent ran, so unchanged files are not hashed again), whose
 * objects borrow the worker's through `alternates`, read-only. The agent never had this
 * directory: nothing in it is the agent's. It is handed to the agent user, who writes the
 * staged objects there; the worker then takes them over as one checked pack.
 */
export async function createStageDir(
  workspaceRoot: string,
  workerGitDir: string,
  identity: AgentIdentity,
): Promise<StageDir> {
  const root = join(workspaceRoot, 'stage');
  const stage: StageDir = { root, gitDir: join(root, 'git'), home: join(root, 'home') };
  await rm(root, { recursive: true, force: true });
  for (const dir of [
    root,
    stage.home,
    stage.gitDir,
    join(stage.gitDir, 'objects', 'info'),
    join(stage.gitDir, 'objects', 'pack'),
    join(stage.gitDir, 'refs', 'heads'),
    join(stage.gitDir, 'refs', 'tags'),
  ]) {
    await mkdir(dir, { recursive: true, mode: 0o700 });
  }
  await writeFile(join(stage.gitDir, 'HEAD'), 'ref: refs/heads/stage\n');
  await writeFile(
    join(stage.gitDir, 'config'),
    '[core]\n\trepositoryformatversion = 0\n\tfilemode = true\n\tbare = false\n\tlogallrefupdates = false\n',
  );
  await writeFile(
    join(stage.gitDir, 'objects', 'info', 'alternates'),
    `${join(workerGitDir, 'objects')}\n`,
  );
  // The clone is shallow: without its boundary, walking back from the base would fail.
  await copyFile(join(workerGitDir, 'shallow'), join(stage.gitDir, 'shallow')).catch(() => {});
  await copyFile(join(workerGitDir, 'index'), join(stage.gitDir, 'index')).catch(() => {});
  await handOver(root, identity);
  return stage;
}

/**
 * The agent user must write the staging area: it owns it when the worker is root; with sudo
 * its group may write it (setgid, so what it writes stays readable to the worker).
 */
async function handOver(path: string, identity: AgentIdentity): Promise<void> {
  if (identity.mode === 'same-user') return;
  const info = await lstat(path);
  if (identity.mode === 'root') {
    await lchown(path, identity.uid, identity.gid);
  } else {
    await chown(path, -1, identity.gid);
    await chmod(path, info.isDirectory() ? 0o2770 : 0o660);
  }
  if (info.isDirectory()) {
    for (const entry of await readdir(path)) await handOver(join(path, entry), identity);
  }
}
