import { execFile } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import type { AgentIdentity } from './agent-identity.js';
import { processesOfUid, processesWithEnv } from './processes.js';
import { AGENT_MARKER_VARIABLE } from './run-as-agent.js';

const run = promisify(execFile);

/** How to find what one agent run started. */
export interface AgentRunHandle {
  identity: AgentIdentity;
  /** The value of {@link AGENT_MARKER_VARIABLE} given to the agent (same-user mode). */
  marker: string;
  /** Process group of the agent's main process, when it was started. */
  pgid?: number;
  /** PATH for sudo and sh. */
  path: string;
}

/**
 * Sends `signal` to every process of the agent: with an agent user, every process of that
 * uid — `kill -1` run as that user reaches exactly them, also ones that left the process
 * group or session; in same-user mode the process group and every process carrying the run's
 * marker.
 */
export async function signalAgent(handle: AgentRunHandle, signal: 'TERM' | 'KILL'): Promise<void> {
  const { identity } = handle;
  const script = `kill -s ${signal} -- -1 2>/dev/null; exit 0`;
  try {
    if (identity.mode === 'root') {
      await run('/bin/sh', ['-c', script], {
        uid: identity.uid,
        gid: identity.gid,
        timeout: 10_000,
        env: { PATH: handle.path },
      });
      return;
    }
    if (identity.mode === 'sudo') {
      await run('sudo', ['-n', '-u', identity.sudoUser, '--', '/bin/sh', '-c', script], {
        timeout: 10_000,
        env: { PATH: handle.path },
      });
      return;
    }
  } catch {
    // Verified by the caller: whatever survived is reported there.
    return;
  }
  const sig = signal === 'TERM' ? 'SIGTERM' : 'SIGKILL';
  if (handle.pgid) {
    try {
      process.kill(-handle.pgid, sig);
    } catch {
      // the group is gone
    }
  }
  for (const pid of await processesWithEnv(AGENT_MARKER_VARIABLE, handle.marker)) {
    try {
      process.kill(pid, sig);
    } catch {
      // gone meanwhile
    }
  }
}

/** The agent's processes that are still alive. */
export async function agentProcessesAlive(handle: AgentRunHandle): Promise<number[]> {
  if (handle.identity.mode === 'same-user')
    return processesWithEnv(AGENT_MARKER_VARIABLE, handle.marker);
  return (await processesOfUid(handle.identity.uid)).map((p) => p.pid);
}

/**
 * Kills every process of the agent and waits until none is left (a few rounds, since a
 * process may fork while the first round runs). Returns the pids that could not be stopped,
 * which the caller turns into a failure rather than run git beside them.
 */
export async function killAgentProcesses(handle: AgentRunHandle): Promise<number[]> {
  let alive = await agentProcessesAlive(handle);
  for (let round = 0; round < 10 && alive.length > 0; round++) {
    await signalAgent(handle, 'KILL');
    await sleep(round === 0 ? 20 : 100);
    alive = await agentProcessesAlive(handle);
  }
  return alive;
}
