import { chmod, chown, mkdir, stat } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { WorkerError } from '../errors.js';
import type { AgentIdentity } from '../isolation/agent-identity.js';
import { JOB_ID_PATTERN } from '../payload/schema.js';
import { removeTree, sweepTrash } from './remove-tree.js';

/** The agent's directories inside a workspace, by name. */
const AGENT_DIR_NAMES = ['repo', 'home', 'agent', 'tmp'];
/** The staging area the worker makes for the agent user after the agent ran (src/git/stage-dir.ts). */
const STAGE_DIR_NAME = 'stage';

/**
 * The directories of one job, all inside `<workRoot>/<jobId>`. The agent owns only its
 * checkout, HOME, config and tmp; the worker keeps its git dir (readable, not writable, by
 * the agent) and a private directory of its own (git's HOME, scratch) out of its reach.
 */
export interface Workspace {
  root: string;
  /** The repository checkout: the agent's working directory. */
  checkout: string;
  /** The agent's HOME. */
  home: string;
  /** The agent's config and state directory. */
  agentConfig: string;
  /** The agent's TMPDIR. */
  tmp: string;
  /** The worker's own git dir for this job. */
  gitDir: string;
  /** The worker's private directory (mode 0700): git's HOME, scratch space. */
  worker: string;
  /**
   * Removes the workspace whatever the agent left in it. When it cannot be removed, it is
   * moved aside (the job's path is free again) and the promise rejects saying where it went.
   */
  remove(): Promise<void>;
}

/** Options of {@link createWorkspace}. */
export interface WorkspaceOptions {
  /** Where a line goes when an earlier attempt's leftovers had to be moved aside. */
  log?: (message: string) => void;
}

/**
 * Removes and recreates the job's workspace, owned as the agent identity needs:
 * - the root is the worker's, mode 0710 with the agent's group (the agent may pass, nobody
 *   else may even look), 0700 in same-user mode;
 * - the agent's directories are the agent's: chowned when the worker is root; with sudo,
 *   the worker's but group-writable by the agent's group (setgid, so what the agent writes
 *   stays readable to the worker, a member of that group).
 * The jobId was validated with the payload; it is checked again here because this is where
 * it becomes a path that gets `rm -rf`. An earlier attempt's workspace, whatever the agent
 * made of it, never stops the job: it is removed, or moved aside (see `remove-tree.ts`).
 */
export async function createWorkspace(
  workRoot: string,
  jobId: string,
  identity: AgentIdentity,
  options: WorkspaceOptions = {},
): Promise<Workspace> {
  const parent = resolve(workRoot);
  const root = resolve(parent, jobId);
  if (!JOB_ID_PATTERN.test(jobId) || !root.startsWith(parent + sep)) {
    throw new WorkerError(
      'invalid_payload',
      `invalid payload: jobId ${JSON.stringify(jobId)} does not name a directory`,
    );
  }
  const workspace: Workspace = {
    root,
    checkout: join(root, 'repo'),
    home: join(root, 'home'),
    agentConfig: join(root, 'agent'),
    tmp: join(root, 'tmp'),
    gitDir: join(root, 'git'),
    worker: join(root, 'worker'),
    remove: async () => {
      const outcome = await removeTree(root, identity, agentParts(workspace));
      if (!outcome.removed) {
        throw new Error(
          `the job workspace could not be removed (${outcome.why}); it was moved aside to ${outcome.trash}, which the next job in this work root removes`,
        );
      }
    },
  };
  try {
    await mkdir(parent, { recursive: true, mode: 0o711 });
    if (identity.mode !== 'same-user') await letAgentPass(parent);
    await clearEarlierAttempt(parent, root, identity, agentParts(workspace), options.log);
    await mkdir(root, { mode: 0o700 });
    await mkdir(workspace.worker, { mode: 0o700 });
    await mkdir(join(workspace.worker, 'home'), { mode: 0o700 });
    for (const dir of agentDirs(workspace)) await mkdir(dir, { mode: 0o700 });
    if (identity.mode === 'root') {
      await chown(root, 0, identity.gid);
      for (const dir of agentDirs(workspace)) await chown(dir, identity.uid, identity.gid);
    } else if (identity.mode === 'sudo') {
      await chown(root, -1, identity.gid);
      for (const dir of agentDirs(workspace)) {
        await chown(dir, -1, identity.gid);
        await chmod(dir, 0o2770);
      }
    }
    // mkdir's mode is masked by the umask; the modes must hold whatever it is.
    await chmod(root, identity.mode === 'same-user' ? 0o700 : 0o710);
  } catch (error) {
    if (error instanceof WorkerError) throw error;
    throw new WorkerError(
      'internal_error',
      `cannot create the job workspace ${root}: ${(error as Error).message}; check that VIBERATOR_WORK_ROOT (${parent}) is a writable directory`,
      { retryable: false, step: 'initialising_agent', cause: error },
    );
  }
  return workspace;
}

/**
 * What the agent user may own when the workspace goes: its directories, and the staging area
 * the worker makes for it after the agent ran (src/git/stage-dir.ts).
 */
function agentParts(ws: Workspace): string[] {
  return [...agentDirs(ws), join(ws.root, STAGE_DIR_NAME)];
}

function agentDirs(ws: Workspace): string[] {
  return AGENT_DIR_NAMES.map((name) => join(ws.root, name));
}

/** The work root must let the agent user pass (o+x) to reach its directories. */
async function letAgentPass(parent: string): Promise<void> {
  const info = await stat(parent);
  if ((info.mode & 0o001) !== 0) return;
  if (info.uid === process.getuid?.()) {
    await chmod(parent, (info.mode & 0o7777) | 0o011);
    return;
  }
  throw new WorkerError(
    'internal_error',
    `the agent user cannot pass through VIBERATOR_WORK_ROOT (${parent}, mode ${(info.mode & 0o777).toString(8)}): make it searchable by others (chmod o+x) or choose another directory`,
    { retryable: false, step: 'initialising_agent' },
  );
}

/**
 * Makes way for the job's workspace: what earlier removals moved aside is swept (best
 * effort), and an earlier attempt of this job is removed or, failing that, moved aside.
 */
async function clearEarlierAttempt(
  parent: string,
  root: string,
  identity: AgentIdentity,
  dirs: string[],
  log: ((message: string) => void) | undefined,
): Promise<void> {
  const stuck = await sweepTrash(parent, identity, [...AGENT_DIR_NAMES, STAGE_DIR_NAME]);
  if (stuck.length > 0)
    log?.(`earlier workspaces moved aside could not be removed yet: ${stuck.join(', ')}`);
  const outcome = await removeTree(root, identity, dirs);
  if (!outcome.removed) {
    log?.(
      `an earlier attempt's workspace could not be removed (${outcome.why}); it was moved aside to ${outcome.trash}`,
    );
  }
}
