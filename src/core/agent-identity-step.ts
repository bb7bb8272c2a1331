import type { WorkerEnv } from '../config/worker-env.js';
import {
  type AgentIdentity,
  currentHost,
  describeIdentity,
  resolveAgentIdentity,
} from '../isolation/agent-identity.js';
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
  } else {
    logger.debug(describeIdentity(identity));
  }
  return identity;
}
