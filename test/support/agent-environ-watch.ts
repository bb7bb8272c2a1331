/**
 * Watches the agent's processes from outside while a job runs: every ~50 ms it lists /proc
 * and keeps the environment and argv of each process that carries the worker's agent marker
 * (`VIBERATOR_AGENT_RUN=`, inherited by every process the agent starts). Tests run as root,
 * so /proc/<pid>/environ of the agent user's processes is readable. Short-lived children
 * between two polls can be missed: a test asserts on what was seen, not on a full census.
 */
import { readdir, readFile } from 'node:fs/promises';

const MARKER = 'VIBERATOR_AGENT_RUN=';

/** One agent process as the watch saw it. */
export interface AgentProcessSighting {
  pid: number;
  /** Its argv (`/proc/<pid>/cmdline`). */
  argv: string[];
  /** Its environment at exec (`/proc/<pid>/environ`), name → value. */
  env: Record<string, string>;
  /** The raw environ text, NUL separators kept, for substring searches. */
  rawEnviron: string;
}

export interface AgentEnvironWatch {
  /** Stops polling (after one last look) and returns every distinct process seen. */
  stop(): Promise<AgentProcessSighting[]>;
}

export interface AgentEnvironWatchOptions {
  /** Poll interval; default 50 ms. */
  intervalMs?: number;
  /** Keeps only the processes of one job, e.g. those whose environment names its workspace. */
  filter?: (sighting: AgentProcessSighting) => boolean;
}

function parseEnviron(raw: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const entry of raw.split('\0')) {
    const eq = entry.indexOf('=');
    if (eq > 0) env[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  return env;
}

async function look(pid: number): Promise<AgentProcessSighting | undefined> {
  try {
    const rawEnviron = await readFile(`/proc/${pid}/environ`, 'utf8');
    if (!rawEnviron.includes(MARKER)) return undefined;
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    return {
      pid,
      argv: cmdline.split('\0').filter((a, i, all) => a !== '' || i < all.length - 1),
      env: parseEnviron(rawEnviron),
      rawEnviron,
    };
  } catch {
    // Gone between readdir and read, or a kernel thread: nothing to see.
    return undefined;
  }
}

/** Starts polling /proc; call `stop()` once the job has ended. */
export function watchAgentEnviron(opts: AgentEnvironWatchOptions = {}): AgentEnvironWatch {
  const interval = opts.intervalMs ?? 50;
  const seen = new Map<string, AgentProcessSighting>();
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;

  const poll = async (): Promise<void> => {
    const entries = await readdir('/proc').catch(() => [] as string[]);
    const pids = entries.filter((e) => /^\d+$/.test(e) && Number(e) !== process.pid);
    const sightings = await Promise.all(pids.map((p) => look(Number(p))));
    for (const s of sightings) {
      if (!s || (opts.filter && !opts.filter(s))) continue;
      // A pid that exec'd another program is another sighting.
      seen.set(`${s.pid}\0${s.argv.join('\0')}`, s);
    }
  };

  let running: Promise<void> = Promise.resolve();
  const tick = () => {
    running = poll().finally(() => {
      if (!stopped) timer = setTimeout(tick, interval);
    });
  };
  tick();

  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
      await poll();
      return [...seen.values()];
    },
  };
}
