import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { WorkerError } from '../errors.js';
import { type GitSetup, authProblemOf, credentialAdvice, gitErrorText, gitHeadline, gitIn } from './repository.js';

export interface Checkout {
  dir: string;
  /** The base branch's commit the work starts from. */
  baseSha: string;
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
  try {
    await gitIn(dirname(dir), setup).clone(setup.source, dir, [
      ...depth,
      '--branch',
      baseBranch,
      '--single-branch',
      '--no-tags',
    ]);
  } catch (error) {
    throw cloneError(gitErrorText(error), baseBranch, error);
  }
  const git = gitIn(dir, setup);
  await git.addConfig('user.name', setup.author.name);
  await git.addConfig('user.email', setup.author.email);
  await git.checkoutLocalBranch(workBranch);
  const baseSha = (await git.revparse(['HEAD'])).trim();
  return { dir, baseSha };
}

function cloneError(text: string, baseBranch: string, cause: unknown): WorkerError {
  if (/Remote branch .* not found|couldn't find remote ref/i.test(text)) {
    return new WorkerError(
      'clone_failed',
      `clone failed: the base branch ${baseBranch} does not exist in the repository; check repository.baseBranch`,
      { retryable: false, cause },
    );
  }
  const problem = authProblemOf(text);
  if (problem) {
    return new WorkerError('clone_failed', `clone failed: ${credentialAdvice(problem, 'clone')}`, {
      retryable: false,
      cause,
    });
  }
  return new WorkerError('clone_failed', `clone failed: ${gitHeadline(text)}`, { retryable: true, cause });
}
