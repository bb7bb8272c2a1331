import { lstatSync, readFileSync, realpathSync } from 'node:fs';
import type { AgentIdentity } from './agent-identity.js';

/**
 * Where every user of a host may leave files that outlive a process: the classic temp
 * directories, RAM-backed /dev/shm, the lock directories, and the POSIX message queue file
 * system (listed only where it is mounted).
 */
export const SHARED_PLACE_CANDIDATES = [
  '/tmp',
  '/var/tmp',
  '/dev/shm',
  '/run/lock',
  '/var/lock',
  '/dev/mqueue',
];

/**
 * The candidates that exist on this host as directories every user may write (o+w), with
 * their real paths (`/var/lock` is usually a link to `/run/lock`) and no duplicates: the
 * places the agent user's leftovers are removed from after every agent run.
 */
export function sharedWritablePlaces(candidates = SHARED_PLACE_CANDIDATES): string[] {
  const places: string[] = [];
  for (const candidate of candidates) {
    try {
      const real = realpathSync(candidate);
      const info = lstatSync(real);
      if (info.isDirectory() && (info.mode & 0o002) !== 0 && !places.includes(real)) {
        places.push(real);
      }
    } catch {
      // not on this host
    }
  }
  return places;
}

/** Whether the kernel's POSIX message queues are visible as files (`/dev/mqueue` mounted). */
export function mqueueMounted(): boolean {
  try {
    return readFileSync('/proc/self/mounts', 'utf8')
      .split('\n')
      .some((line) => line.split(' ')[2] === 'mqueue');
  } catch {
    return false;
  }
}

/** One line for `viberator doctor`: what is cleaned after every agent run, and what is not. */
export function describeTempCleanup(identity: AgentIdentity): string {
  const places = sharedWritablePlaces();
  const where = places.length > 0 ? places.join(', ') : 'none found';
  const mqueue = mqueueMounted()
    ? ''
    : '; POSIX message queues are not listed (/dev/mqueue not mounted) and not removed';
  if (identity.mode === 'same-user') {
    return `same-user mode — after every agent run, new top-level entries of the worker's user in ${where} and new SysV IPC objects are removed; what the agent changed inside entries that were there before is not${mqueue}`;
  }
  return `after every agent run, everything the agent user owns in ${where} and its SysV IPC objects are removed, as that user${mqueue}`;
}
