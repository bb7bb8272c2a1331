import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { WorkerError } from '../errors.js';
import { type GitSetup, gitErrorText, gitFailure, gitIn } from './repository.js';

export interface Checkout {
  dir: string;
  /** The base branch's commit the work starts from. */
  baseSha: string;
  /** Where the work branch pointed on the remote when the job started ('' when absent). */
  remoteBranchSha: string;
}

/**
 * Shallow-clones the base branch into `dir`, creates the work branch and sets the commit
 * identity in the checkout (the agent's own commits use it too).
 */
export async function cloneRepository(
  setup: GitSetup,
  dir: string,
  baseBranch: string,
  workBranch: string,
): Promise<Checkout> {
  await mkdir(dirname(dir), { recursive: true });
  const depth = setup.remoteUrl ? ['--depth', '1'] : [];
  const parent = gitIn(dirname(dir), setup);
  // Where the work branch stands now is asked beside the clone, not before the push: a push
  // then replaces the branch only if nobody moved it while the job ran.
  const remoteBranch = parent.listRemote([setup.source, `refs/heads/${workBranch}`]);
  remoteBranch.catch(() => {});
  try {
    await parent.clone(setup.source, dir, [
      ...depth,
      '--branch',
      baseBranch,
      '--single-branch',
      '--no-tags',
      // The identity lands in the checkout's own config at clone time: the agent's commits
      // use it too, and a separate `git config` call would cost a process per key.
      '--config',
      `user.name=${setup.author.name}`,
      '--config',
      `user.email=${setup.author.email}`,
    ]);
  } catch (error) {
    throw cloneError(gitErrorText(error), baseBranch, error);
  }
  const git = gitIn(dir, setup);
  await git.checkoutLocalBranch(workBranch);
  const baseSha = (await git.revparse(['HEAD'])).trim();
  let remoteBranchSha: string;
  try {
    remoteBranchSha = (await remoteBranch).split(/\s+/)[0] ?? '';
  } catch (error) {
    throw cloneError(gitErrorText(error), baseBranch, error);
  }
  return { dir, baseSha, remoteBranchSha };
}

function cloneError(text: string, baseBranch: string, cause: unknown): WorkerError {
  if (/Remote branch .* not found|couldn't find remote ref/i.test(text)) {
    return new WorkerError(
      'clone_failed',
      `clone failed: the base branch ${baseBranch} does not exist in the repository; check repository.baseBranch`,
      { retryable: false, cause },
    );
  }
  return gitFailure('clone_failed', 'clone', text, cause);
}
