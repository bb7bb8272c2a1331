import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { WorkerError } from '../errors.js';
import { processesOfUid } from './processes.js';

const run = promisify(execFile);

/**
 * The reserved uid:gid the agent runs as when the worker is root and VIBERATOR_AGENT_USER is
 * unset: in Debian's reserved range 65000–65533, which no package or tool allocates, so no
 * account or daemon shares it and stopping every process of it stops only the agent.
 */
export const DEFAULT_AGENT_UID = 65530;

/**
 * Who the agent runs as (runtime.md, "The agent is untrusted"):
 * - `root`: the worker is root and starts the agent with another uid/gid directly;
 * - `sudo`: a non-root worker reaches the agent user through `sudo -n -u <user>`;
 * - `same-user`: no switch is possible; the agent shares the worker's user (reduced isolation).
 */
export type AgentIdentity =
  | { mode: 'root'; uid: number; gid: number; label: string; reserved: boolean }
  | { mode: 'sudo'; uid: number; gid: number; label: string; sudoUser: string }
  | { mode: 'same-user'; uid: number; gid: number; label: string };

/** What the identity resolution reads of the host; tests and doctor pass the real values. */
export interface IdentityHost {
  /** VIBERATOR_AGENT_USER, when set. */
  agentUser?: string;
  uid: number;
  /** The worker's groups (primary and supplementary). */
  groups: number[];
  /** PATH, to find sudo and getent. */
  path: string;
}

export function currentHost(agentUser: string | undefined, path: string): IdentityHost {
  return {
    agentUser,
    uid: process.getuid?.() ?? -1,
    groups: process.getgroups?.() ?? [],
    path,
  };
}

const UID_GID = /^(\d+):(\d+)$/;

/**
 * Decides who the agent runs as, checking that the switch really works. Throws a
 * non-retryable `internal_error` naming what to fix when VIBERATOR_AGENT_USER cannot be used.
 */
export async function resolveAgentIdentity(host: IdentityHost): Promise<AgentIdentity> {
  const wanted = host.agentUser?.trim() || undefined;
  if (host.uid === 0) return resolveAsRoot(wanted, host);
  if (!wanted)
    return {
      mode: 'same-user',
      uid: host.uid,
      gid: host.groups[0] ?? -1,
      label: "the worker's own user",
    };
  return resolveThroughSudo(wanted, host);
}

async function resolveAsRoot(
  wanted: string | undefined,
  host: IdentityHost,
): Promise<AgentIdentity> {
  if (!wanted) {
    const uid = DEFAULT_AGENT_UID;
    const owner = await accountOf(String(uid), host.path);
    if (owner) {
      throw setupError(
        `the reserved agent uid ${uid} belongs to the account ${owner.name} on this host, so the worker cannot treat it as the agent's alone; set VIBERATOR_AGENT_USER to a user (name or uid:gid) that only the agent uses`,
      );
    }
    const running = await processesOfUid(uid);
    if (running.length > 0) {
      throw setupError(
        `processes of the reserved agent uid ${uid} are running (pids ${running.map((p) => p.pid).join(', ')}): another worker on this host is using it, or a job's processes were left behind; give each concurrent worker its own VIBERATOR_AGENT_USER`,
      );
    }
    return { mode: 'root', uid, gid: uid, label: `${uid}:${uid} (reserved)`, reserved: true };
  }
  const numeric = UID_GID.exec(wanted);
  const account = numeric ? undefined : await accountOf(wanted, host.path);
  if (!numeric && !account) {
    throw setupError(
      `VIBERATOR_AGENT_USER=${wanted}: no such user on this host; give an existing user name or a uid:gid`,
    );
  }
  const uid = numeric ? Number(numeric[1]) : (account?.uid ?? -1);
  const gid = numeric ? Number(numeric[2]) : (account?.gid ?? -1);
  if (uid === 0 || gid === 0) {
    throw setupError(
      `VIBERATOR_AGENT_USER=${wanted} is root (uid or gid 0): the agent never runs as root; name an unprivileged user`,
    );
  }
  refuseShared(wanted, uid);
  return {
    mode: 'root',
    uid,
    gid,
    label: numeric ? `${uid}:${gid}` : `${wanted} (${uid}:${gid})`,
    reserved: false,
  };
}

async function resolveThroughSudo(wanted: string, host: IdentityHost): Promise<AgentIdentity> {
  const numeric = UID_GID.exec(wanted);
  const account = await accountOf(numeric ? (numeric[1] ?? '') : wanted, host.path);
  const uid = numeric ? Number(numeric[1]) : account?.uid;
  const gid = numeric ? Number(numeric[2]) : account?.gid;
  if (uid === undefined || gid === undefined) {
    throw setupError(
      `VIBERATOR_AGENT_USER=${wanted}: no such user on this host; give an existing user name or a uid:gid`,
    );
  }
  if (uid === 0 || gid === 0) {
    throw setupError(`VIBERATOR_AGENT_USER=${wanted} is root: the agent never runs as root`);
  }
  refuseShared(wanted, uid);
  if (uid === host.uid) {
    throw setupError(
      `VIBERATOR_AGENT_USER=${wanted} is the worker's own user: unset it for same-user mode, or name a separate agent user`,
    );
  }
  // sudo takes `#uid` for a user without a name.
  const sudoUser = numeric ? `#${uid}` : wanted;
  try {
    await run('sudo', ['-n', '-u', sudoUser, '--', '/bin/true'], {
      timeout: 10_000,
      env: { PATH: host.path },
    });
  } catch (error) {
    const why = ((error as { stderr?: string }).stderr ?? (error as Error).message)
      .trim()
      .split('\n')[0];
    throw setupError(
      `VIBERATOR_AGENT_USER=${wanted} is set but this worker (uid ${host.uid}) cannot run commands as that user through \`sudo -n -u ${sudoUser}\` (${why}); add a sudoers rule such as \`<worker> ALL=(${wanted}) NOPASSWD: ALL\`, or unset VIBERATOR_AGENT_USER to run the agent as the worker's own user (reduced isolation)`,
    );
  }
  if (!host.groups.includes(gid)) {
    throw setupError(
      `the worker (uid ${host.uid}) must be a member of the agent user's group (gid ${gid}) to read what the agent wrote and to hand it its workspace: add it (usermod -aG <group> <worker>)`,
    );
  }
  return { mode: 'sudo', uid, gid, label: `${wanted} (${uid}:${gid}) through sudo`, sudoUser };
}

/** The passwd entry of a name or uid, through NSS (`getent`). */
async function accountOf(
  nameOrUid: string,
  path: string,
): Promise<{ name: string; uid: number; gid: number } | undefined> {
  try {
    const { stdout } = await run('getent', ['passwd', nameOrUid], {
      timeout: 10_000,
      env: { PATH: path },
    });
    const [name, , uid, gid] = stdout.trim().split(':');
    if (!name || uid === undefined || gid === undefined) return undefined;
    return { name, uid: Number(uid), gid: Number(gid) };
  } catch {
    return undefined; // exit 2: no such entry
  }
}

/** `nobody` is shared by other programs, and the worker stops every process of its agent user. */
const SHARED_UID = 65534;

function refuseShared(wanted: string, uid: number): void {
  if (uid === SHARED_UID) {
    throw setupError(
      `VIBERATOR_AGENT_USER=${wanted} is nobody (uid ${SHARED_UID}), which other programs share; the worker stops every process of its agent user, so give the agent a user of its own`,
    );
  }
}

function setupError(message: string): WorkerError {
  return new WorkerError('internal_error', message, {
    retryable: false,
    step: 'initialising_agent',
  });
}

/** One line for logs and `viberator doctor`. */
export function describeIdentity(identity: AgentIdentity): string {
  switch (identity.mode) {
    case 'root':
      return `agent user: ${identity.label}, started directly by the root worker`;
    case 'sudo':
      return `agent user: ${identity.label}`;
    case 'same-user':
      return "agent user: none — same-user mode (reduced isolation): the agent runs as the worker's own user and could read its environment and files; run the worker as root, or give it a sudo rule for VIBERATOR_AGENT_USER";
  }
}
