import { chmod, mkdir, rm } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { WorkerError } from '../errors.js';
import { JOB_ID_PATTERN } from '../payload/schema.js';

/** The directories of one job, all inside `<workRoot>/<jobId>` (mode 0700). */
export interface Workspace {
  root: string;
  /** The repository checkout: the agent's working directory. */
  checkout: string;
  /** The agent's HOME. */
  home: string;
  /** The agent's config and state directory. */
  agentConfig: string;
  tmp: string;
  remove(): Promise<void>;
}

/**
 * Removes and recreates the job's workspace. The jobId was validated with the payload; it is
 * checked again here because this is where it becomes a path that gets `rm -rf`.
 */
export async function createWorkspace(workRoot: string, jobId: string): Promise<Workspace> {
  const parent = resolve(workRoot);
  const root = resolve(parent, jobId);
  if (!JOB_ID_PATTERN.test(jobId) || !root.startsWith(parent + sep)) {
    throw new WorkerError(
      'invalid_payload',
      `invalid payload: jobId ${JSON.stringify(jobId)} does not name a directory`,
    );
  }
  try {
    await mkdir(parent, { recursive: true });
    await rm(root, { recursive: true, force: true });
    await mkdir(root, { mode: 0o700 });
    // mkdir's mode is masked by the umask; the workspace must be private whatever it is.
    await chmod(root, 0o700);
  } catch (error) {
    throw new WorkerError(
      'internal_error',
      `cannot create the job workspace ${root}: ${(error as Error).message}; check that VIBERATOR_WORK_ROOT (${parent}) is a writable directory`,
      { retryable: false, step: 'initialising_agent', cause: error },
    );
  }
  const workspace: Workspace = {
    root,
    checkout: join(root, 'repo'),
    home: join(root, 'home'),
    agentConfig: join(root, 'agent'),
    tmp: join(root, 'tmp'),
    remove: () => rm(root, { recursive: true, force: true }),
  };
  for (const dir of [workspace.home, workspace.agentConfig, workspace.tmp]) {
    await mkdir(dir, { mode: 0o700 });
  }
  return workspace;
}
