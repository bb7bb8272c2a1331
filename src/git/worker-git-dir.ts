import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * What the worker's git dir must hold after the agent step. With an agent user the agent
 * cannot write it at all; in same-user mode it could, so the worker puts back the config it
 * wrote and removes every file through which a git dir redirects or runs something
 * (hooks, attributes, a `commondir`, alternates, grafts) before running git there again.
 */
export class WorkerGitDir {
  private constructor(
    readonly path: string,
    private readonly config: string,
  ) {}

  /** Remembers the config as the clone wrote it. */
  static async capture(path: string): Promise<WorkerGitDir> {
    return new WorkerGitDir(path, await readFile(join(path, 'config'), 'utf8'));
  }

  async restore(): Promise<void> {
    // Removed first: a link put in its place must not be written through.
    await rm(join(this.path, 'config'), { force: true, recursive: true });
    await writeFile(join(this.path, 'config'), this.config, { flag: 'wx' });
    for (const name of [
      'hooks',
      'commondir',
      'info/attributes',
      'info/grafts',
      'objects/info/alternates',
      'objects/info/http-alternates',
    ]) {
      await rm(join(this.path, name), { recursive: true, force: true });
    }
  }
}
