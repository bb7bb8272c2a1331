import { WorkerError } from '../errors.js';
import { type GitSetup, authProblemOf, credentialAdvice, gitErrorText, gitHeadline, gitIn } from './repository.js';

/**
 * Pushes HEAD to the work branch. A branch left by an earlier attempt of the job is
 * replaced, but only if it still points where `ls-remote` saw it (force-with-lease): the
 * branch is the worker's, and a retry starts again from the base branch.
 */
export async function pushBranch(setup: GitSetup, dir: string, branch: string): Promise<void> {
  const git = gitIn(dir, setup);
  const ref = `refs/heads/${branch}`;
  try {
    const listing = await git.listRemote(['origin', ref]);
    const expected = listing.split(/\s+/)[0] ?? '';
    await git.push('origin', `HEAD:${ref}`, [`--force-with-lease=${ref}:${expected}`]);
  } catch (error) {
    throw pushError(gitErrorText(error), branch, error);
  }
}

function pushError(text: string, branch: string, cause: unknown): WorkerError {
  if (/stale info/i.test(text)) {
    return new WorkerError('push_failed', `push failed: ${branch} moved on the remote while the job ran; retry the job`, {
      retryable: true,
      cause,
    });
  }
  if (/protected branch|hook declined|\[rejected\]|\[remote rejected\]|non-fast-forward/i.test(text)) {
    return new WorkerError(
      'push_failed',
      `push failed: the remote rejected the branch ${branch}: ${gitHeadline(text)}; check branch protection rules or project.branchNameTemplate`,
      { retryable: false, cause },
    );
  }
  const problem = authProblemOf(text);
  if (problem) {
    return new WorkerError('push_failed', `push failed: ${credentialAdvice(problem, 'push')}`, { retryable: false, cause });
  }
  return new WorkerError('push_failed', `push failed: ${gitHeadline(text)}`, { retryable: true, cause });
}
