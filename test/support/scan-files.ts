/**
 * Searches every regular file under a directory for a secret (byte for byte), without
 * following symbolic links: what a leaked key looks like on disk, whatever the file type.
 */
import { lstat, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface FileScan {
  /** Regular files read. */
  files: number;
  /** Paths of the files that contain the needle. */
  hits: string[];
}

export async function scanFilesFor(root: string, needle: string): Promise<FileScan> {
  const wanted = Buffer.from(needle, 'utf8');
  const scan: FileScan = { files: 0, hits: [] };
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir)) {
      const path = join(dir, entry);
      const info = await lstat(path);
      if (info.isDirectory()) await walk(path);
      else if (info.isFile()) {
        scan.files++;
        if ((await readFile(path)).includes(wanted)) scan.hits.push(path);
      }
    }
  };
  await walk(root);
  return scan;
}
