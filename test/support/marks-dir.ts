import { chmod, mkdtemp } from 'node:fs/promises';

/**
 * A directory every user may write, where a test's agent leaves notes for the test to read
 * after the job. It lives under /run, outside the shared temp places (/tmp, /var/tmp,
 * /dev/shm, /run/lock) whose files of the agent user the worker removes after every agent
 * run: marks kept there would be gone before the test could read them.
 */
export async function marksDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(`/run/${prefix}`);
  await chmod(dir, 0o777);
  return dir;
}
