import { WorkerError } from '../errors.js';
import { git } from './git-runner.js';
import type { GitSetup } from './repository.js';

/** Shorter values match ordinary text by chance; they are not scanned for. */
const MIN_SCANNED_LENGTH = 8;

/**
 * Names the secrets whose values appear in the work about to be pushed: any patch or commit
 * message between the base commit and HEAD. The agent may have written a key it was given
 * into a file; the push must not carry it to the remote.
 */
export async function secretsInChanges(
  setup: GitSetup,
  baseSha: string,
  secrets: Array<{ name: string; value: string }>,
): Promise<Array<{ name: string; files: string[] }>> {
  const candidates = secrets.filter((secret) => secret.value.length >= MIN_SCANNED_LENGTH);
  if (candidates.length === 0) return [];
  const range = `${baseSha}..HEAD`;
  const [messages, patches] = await Promise.all([
    git(setup, ['log', '--format=%B', range]).then((out) => out.stdout),
    git(setup, [
      'log',
      '-p',
      '--no-color',
      '--no-ext-diff',
      '--no-textconv',
      '--format=',
      range,
    ]).then((out) => out.stdout),
  ]);
  // What the push would carry: commit messages and added lines. A removed line that held a
  // secret was already in the repository; it is not the agent's leak.
  const added = patches
    .split('\n')
    .filter((line) => line.startsWith('+') && !line.startsWith('+++ '))
    .join('\n');
  const found: Array<{ name: string; files: string[] }> = [];
  for (const secret of candidates) {
    if (!messages.includes(secret.value) && !added.includes(secret.value)) continue;
    const files =
      // The value goes in on stdin: never in a command line, which other processes can read.
      (
        await git(setup, ['grep', '-l', '-F', '--no-textconv', '-f', '-', 'HEAD', '--'], {
          input: `${secret.value}\n`,
        }).then(
          (out) => out.stdout,
          () => '',
        )
      )
        .split('\n')
        .filter(Boolean)
        .map((line) => line.replace(/^HEAD:/, ''));
    found.push({ name: secret.name, files });
  }
  return found;
}

/** Fails the push step, naming secrets and files, when the work carries a secret's value. */
export async function refuseSecretsInChanges(
  setup: GitSetup,
  baseSha: string,
  secrets: Array<{ name: string; value: string }>,
): Promise<void> {
  const leaked = await secretsInChanges(setup, baseSha, secrets);
  if (leaked.length === 0) return;
  const where = leaked.map(
    (hit) =>
      `${hit.name} (${hit.files.length > 0 ? `in ${hit.files.join(', ')}` : 'in a commit message'})`,
  );
  throw new WorkerError(
    'push_failed',
    `push refused: the changes contain the value of secret ${where.join(', ')}; nothing was pushed — tell the agent not to write credentials into the repository`,
    { retryable: false },
  );
}
