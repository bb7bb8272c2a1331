import { readdir, readFile } from 'node:fs/promises';

/** A live process whose environment mentions a marker (e.g. a test's unique work root). */
export interface ProcessInfo {
  pid: number;
  environ: Record<string, string>;
  cmdline: string;
}

/** Every process (other than this one) whose environment contains `marker`, read from /proc. */
export async function processesWithEnvMarker(marker: string): Promise<ProcessInfo[]> {
  const found: ProcessInfo[] = [];
  for (const entry of await readdir('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      const raw = await readFile(`/proc/${pid}/environ`, 'utf8');
      if (!raw.includes(marker)) continue;
      const cmdline = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).replace(/\0/g, ' ').trim();
      const environ: Record<string, string> = {};
      for (const pair of raw.split('\0')) {
        const eq = pair.indexOf('=');
        if (eq > 0) environ[pair.slice(0, eq)] = pair.slice(eq + 1);
      }
      found.push({ pid, environ, cmdline });
    } catch {
      // The process ended while we looked, or is not ours to read.
    }
  }
  return found;
}

/** Polls until `check` returns a value, or fails after `timeoutMs`. */
export async function waitFor<T>(
  check: () => Promise<T | undefined>,
  timeoutMs: number,
  what: string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Live (non-zombie) processes of a uid, read from `/proc/<pid>/status`. */
export async function processesOfUid(uid: number): Promise<number[]> {
  const found: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const status = await readFile(`/proc/${entry}/status`, 'utf8').catch(() => '');
    if (new RegExp(`^Uid:\\s+${uid}\\s`, 'm').test(status) && !/^State:\s+Z/m.test(status))
      found.push(Number(entry));
  }
  return found;
}
