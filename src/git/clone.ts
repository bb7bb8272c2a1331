import { rm } from 'node:fs/promises';
import { WorkerError } from '../errors.js';
import { readHead } from './agent-commits.js';
import { git } from './git-runner.js';
import { type GitSetup, gitErrorText, gitFailure } from './repository.js';

export interface Checkout {
  /** The base branch's commit the work starts from. */
  baseSha: string;
  /** Where the work branch pointed on the remote when the job started ('' when absent). */
  remoteBranchSha: string;
}

/**
 * Clones the base branch into the worker's own git dir (`setup.gitDir`), without a checkout:
 * the files are written by the agent user afterwards (agent-checkout.ts), so the worker
 * never has to hand over ownership file by file. The git dir
 * is readable by the agent (its checkout borrows the objects) but never writable.
 * `workBranch` is only looked up on the remote (where it stands now, for the lease).
 */
export async function cloneRepository(
  setup: GitSetup,
  scratchDir: string,
  baseBranch: string,
  workBranch: string,
): Promise<Checkout> {
  // Where the work branch stands now is asked beside the clone, not before the push: a push
  // then replaces the branch only if nobody moved it while the job ran.
  const remoteBranch = git(setup, ['ls-remote', setup.source, `refs/heads/${workBranch}`], {
    network: true,
    inRepository: false,
    cwd: scratchDir,
  });
  remoteBranch.catch(() => {});
  const shape = setup.remoteUrl
    ? ['--depth', '1']
    : // A local path would be hard-linked with its owner's modes; a real transfer gives ours.
      ['--no-local'];
  try {
    await git(
      setup,
      [
        'clone',
        '--quiet',
        '--no-checkout',
        '--separate-git-dir',
        setup.gitDir,
        ...shape,
        '--branch',
        baseBranch,
        '--single-branch',
        '--no-tags',
        // The agent reads the objects (its checkout borrows them); nobody else can reach the
        // workspace, so world-readable here means readable by the agent's group.
        '--config',
        'core.sharedRepository=0644',
        setup.source,
        `${scratchDir}/clone`,
      ],
      { network: true, inRepository: false, cwd: scratchDir },
    );
  } catch (error) {
    throw cloneError(gitErrorText(error), baseBranch, error, setup.tokenSecret);
  } finally {
    // Only the `.git` pointer file lives there; the work tree is the agent's.
    await rm(`${scratchDir}/clone`, { recursive: true, force: true });
  }
  // HEAD stays on the base branch's name in this private clone: only the push names the work
  // branch, and a process per ref update is time the job does not need to spend.
  const baseSha =
    (await readHead(setup.gitDir)) ?? (await git(setup, ['rev-parse', 'HEAD'])).stdout.trim();
  let remoteBranchSha: string;
  try {
    remoteBranchSha = (await remoteBranch).stdout.split(/\s+/)[0] ?? '';
  } catch (error) {
    throw cloneError(gitErrorText(error), baseBranch, error, setup.tokenSecret);
  }
  return { baseSha, remoteBranchSha };
}

function cloneError(
  text: string,
  baseBranch: string,
  cause: unknown,
  tokenSecret: string,
): WorkerError {
  if (/Remote branch .* not found|couldn't find remote ref/i.test(text)) {
    return new WorkerError(
      'clone_failed',
      `clone failed: the base branch ${baseBranch} does not exist in the repository; check repository.baseBranch`,
      { retryable: false, cause },
    );
  }
  return gitFailure('clone_failed', 'clone', text, cause, tokenSecret);
}
