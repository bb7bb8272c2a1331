import { readHead } from './agent-commits.js';
import { git } from './git-runner.js';
import type { GitSetup } from './repository.js';

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
 * Commits what the agent left in the tree on top of HEAD (the agent's own commits, when
 * taken, are already there), with the three trailers. Runs in the worker's own git dir: the
 * tree is data (a symlink is recorded as a link) and nothing the agent configured runs.
 * `exclude` lists files the worker placed in the checkout, which are never committed.
 */
export async function commitChanges(
  setup: GitSetup,
  baseSha: string,
  subject: string,
  identity: CommitIdentity,
  exclude: string[] = [],
): Promise<CommitOutcome> {
  const pathspec = ['--', '.', ...exclude.map((path) => `:(exclude,literal)${path}`)];
  await git(setup, ['add', '--all', ...pathspec]);
  if (exclude.length > 0) {
    // An excluded file the agent committed itself goes back to the base commit's version
    // (or out of the tree, when the base has none): the repository's own file is kept as is.
    await git(
      setup,
      ['reset', '--quiet', baseSha, '--', ...exclude.map((path) => `:(literal)${path}`)],
      {
        okExitCodes: [1],
      },
    );
  }
  // `commit` exits 1 when there is nothing to commit: that is the answer, not a failure.
  const commit = await git(setup, ['commit', '--quiet', '--no-verify', '--file', '-'], {
    input: `${subject}\n\n${commitTrailers(identity)}\n`,
    okExitCodes: [1],
  });
  const committedRemaining = commit.exitCode === 0;
  const headSha =
    (await readHead(setup.gitDir)) ?? (await git(setup, ['rev-parse', 'HEAD'])).stdout.trim();
  const diff =
    headSha === baseSha
      ? ''
      : (await git(setup, ['diff', '--name-only', '-z', '--no-renames', baseSha, headSha])).stdout;
  const changedFiles = diff.split('\0').filter((line) => line.length > 0);
  return { headSha, committedRemaining, changedFiles };
}
