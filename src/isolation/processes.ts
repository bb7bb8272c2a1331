import { readdirSync, readFileSync } from 'node:fs';

/** A process found in /proc. */
export interface ProcessInfo {
  pid: number;
  uid: number;
  /** Single-letter state (`R`, `S`, `Z`, …); zombies are already dead. */
  state: string;
}

// /proc is read synchronously on purpose: its files live in memory, a whole scan takes well
// under a millisecond that way, while one promise per file costs a thread-pool round trip
// each (tens of milliseconds per scan).

/**
 * Every live process of `uid` (zombies excluded: they hold no resources and cannot act),
 * read from `/proc/<pid>/status`, which any user may read.
 */
export async function processesOfUid(uid: number): Promise<ProcessInfo[]> {
  const found: ProcessInfo[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const info = readStatus(Number(entry));
    if (info && info.uid === uid && info.state !== 'Z' && info.state !== 'X') found.push(info);
  }
  return found;
}

function readStatus(pid: number): ProcessInfo | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined; // gone meanwhile
  }
  const uid = /^Uid:\s+(\d+)/m.exec(text)?.[1];
  const state = /^State:\s+(\S)/m.exec(text)?.[1];
  if (uid === undefined || state === undefined) return undefined;
  return { pid, uid: Number(uid), state };
}

/**
 * Live processes whose environment carries `name=value` — how same-user mode finds what the
 * agent started after it left the process group. Only processes of the worker's own user
 * are readable, which is exactly the set the agent could have started.
 */
export async function processesWithEnv(name: string, value: string): Promise<number[]> {
  const needle = Buffer.from(`\0${name}=${value}\0`);
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const environ = Buffer.concat([Buffer.from([0]), readFileSync(`/proc/${entry}/environ`)]);
      if (environ.includes(needle) && !isZombie(Number(entry))) found.push(Number(entry));
    } catch {
      // not ours, or gone
    }
  }
  return found;
}

function isZombie(pid: number): boolean {
  const state = readStatus(pid)?.state;
  return state === undefined || state === 'Z' || state === 'X';
}
