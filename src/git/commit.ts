import { type GitSetup, gitIn } from './repository.js';

export interface CommitIdentity {
  jobId: string;
  agent: string;
  clankerId: string;
}

export interface CommitOutcome {
  /** HEAD after committing (the agent's commits included). */
  headSha: string;
  /** Whether the worker made a commit of its own for uncommitted changes. */
  committedRemaining: boolean;
  /** Files that differ between the base commit and HEAD. */
  changedFiles: string[];
}

/** The trailers that mark a worker commit (runtime.md). */
export function commitTrailers(identity: CommitIdentity): string {
  return [
    `Viberator-Job: ${identity.jobId}`,
    `Viberator-Agent: ${identity.agent}`,
    `Viberator-Clanker: ${identity.clankerId}`,
  ].join('\n');
}

/**
 * Keeps whatever the agent committed and commits what it left uncommitted, with the three
 * trailers. Nothing the worker placed lives in the checkout, so `add -A` takes only the
 * agent's work.
 */
export async function commitChanges(
  setup: GitSetup,
  dir: string,
  baseSha: string,
  subject: string,
  identity: CommitIdentity,
): Promise<CommitOutcome> {
  const git = gitIn(dir, setup);
  const committedRemaining = !(await git.status()).isClean();
  if (committedRemaining) {
    // --verbose: simple-git waits 50 ms after any command that printed nothing.
    await git.add(['-A', '--verbose']);
    await git.commit(`${subject}\n\n${commitTrailers(identity)}\n`);
  }
  const headSha = (await git.revparse(['HEAD'])).trim();
  const diff =
    headSha === baseSha
      ? ''
      : await git.raw(['diff', '--name-only', '--no-renames', baseSha, headSha]);
  const changedFiles = diff.split('\n').filter((line) => line.length > 0);
  return { headSha, committedRemaining, changedFiles };
}
