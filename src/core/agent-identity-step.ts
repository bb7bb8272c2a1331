import type { WorkerEnv } from '../config/worker-env.js';
import { WorkerError } from '../errors.js';
import {
  type AgentIdentity,
  currentHost,
  describeIdentity,
  resolveAgentIdentity,
} from '../isolation/agent-identity.js';
import { agentProcessesAlive, killAgentProcesses } from '../isolation/stop-agent.js';
import type { Logger } from '../log.js';

let sameUserWarned = false;

/**
 * Who the agent runs as for this job. Same-user mode is logged once per process (a warm
 * Lambda container runs many jobs): the reduced isolation is a property of the host.
 */
export async function agentIdentityFor(env: WorkerEnv, logger: Logger): Promise<AgentIdentity> {
  const identity = await resolveAgentIdentity(currentHost(env.agentUser, env.host.PATH ?? ''));
  if (identity.mode === 'same-user') {
    if (!sameUserWarned) logger.warn(describeIdentity(identity));
    sameUserWarned = true;
    return identity;
  }
  logger.debug(describeIdentity(identity));
  // One agent user serves one job at a time (runtime.md): whatever of it still runs was left
  // by an earlier job (a worker killed before it could clean up) and must not share this
  // job's workspace. The reserved uid was checked for processes already (it refuses them).
  const handle = { identity, marker: '', path: env.host.PATH ?? '/usr/bin:/bin' };
  const leftovers = await agentProcessesAlive(handle);
  if (leftovers.length > 0) {
    logger.warn('stopping processes the agent user left running before this job', {
      pids: leftovers,
    });
    const survivors = await killAgentProcesses(handle);
    if (survivors.length > 0) {
      throw new WorkerError(
        'internal_error',
        `processes of the agent user ${identity.label} are running and could not be stopped (pids ${survivors.join(', ')})`,
        { retryable: true, step: 'initialising_agent' },
      );
    }
  }
  return identity;
}
