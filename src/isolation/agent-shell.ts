import type { CommandSpec } from '../process/run-process.js';
import type { AgentIdentity } from './agent-identity.js';

/** The PATH the worker's own helper scripts run with (sudo, sh, find, chmod, rm, ipcrm). */
export const SYSTEM_PATH = '/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * A short `sh -c` script run as the agent user, with no environment but PATH: as root, with
 * the agent's uid/gid (spawn drops root's supplementary groups); with sudo, through
 * `sudo -n -u` (the rule allows exactly that user); in same-user mode as the worker itself.
 * The arguments travel as positional parameters, never pasted into the script.
 */
export function agentShell(identity: AgentIdentity, script: string, args: string[]): CommandSpec {
  const shell = ['/bin/sh', '-c', script, 'sh', ...args];
  const env = { PATH: SYSTEM_PATH };
  if (identity.mode === 'sudo') {
    return { file: 'sudo', args: ['-n', '-u', identity.sudoUser, '--', ...shell], cwd: '/', env };
  }
  const [file = '/bin/sh', ...rest] = shell;
  if (identity.mode === 'root') {
    return { file, args: rest, cwd: '/', env, uid: identity.uid, gid: identity.gid };
  }
  return { file, args: rest, cwd: '/', env };
}

/** A script run as the worker itself (no switch), in the same shape. */
export function workerShell(script: string, args: string[]): CommandSpec {
  return {
    file: '/bin/sh',
    args: ['-c', script, 'sh', ...args],
    cwd: '/',
    env: { PATH: SYSTEM_PATH },
  };
}
