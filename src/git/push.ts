import { WorkerError } from '../errors.js';
import { git } from './git-runner.js';
import { type GitSetup, gitErrorText, gitFailure, gitHeadline } from './repository.js';

/**
 * Pushes `commit` to the work branch of `setup.source` itself — the URL, never a remote name
 * whose configuration could say otherwise. A branch left by an earlier attempt of the job is
 * replaced, but only if it still points where it did when the job started
 * (force-with-lease with `expectedSha`, '' for "must not exist"): the branch is the worker's,
 * and a retry starts again from the base branch.
 */
export async function pushBranch(
  setup: GitSetup,
  branch: string,
  expectedSha: string,
  /** The commit to push: the worker's own, by id. */
  commit = 'HEAD',
): Promise<void> {
  const ref = `refs/heads/${branch}`;
  try {
    await git(
      setup,
      [
        'push',
        '--quiet',
        '--no-verify',
        `--force-with-lease=${ref}:${expectedSha}`,
        setup.source,
        `${commit}:${ref}`,
      ],
      { network: true, objectsOnly: true },
    );
  } catch (error) {
    throw pushError(gitErrorText(error), branch, error, setup.tokenSecret);
  }
}

function pushError(text: string, branch: string, cause: unknown, tokenSecret: string): WorkerError {
  if (/stale info/i.test(text)) {
    return new WorkerError(
      'push_failed',
      `push failed: ${branch} moved on the remote while the job ran; retry the job`,
      {
        retryable: true,
        cause,
      },
    );
  }
  if (
    /protected branch|hook declined|\[rejected\]|\[remote rejected\]|non-fast-forward/i.test(text)
  ) {
    return new WorkerError(
      'push_failed',
      `push failed: the remote rejected the branch ${branch}: ${gitHeadline(text)}; check branch protection rules or project.branchNameTemplate`,
      { retryable: false, cause },
    );
  }
  return gitFailure('push_failed', 'push', text, cause, tokenSecret);
}
