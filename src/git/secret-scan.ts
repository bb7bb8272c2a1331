import { type GitSetup, gitIn } from './repository.js';

/** Shorter values match ordinary text by chance; they are not scanned for. */
const MIN_SCANNED_LENGTH = 8;

/**
 * Names the secrets whose values appear in the work about to be pushed: any patch or commit
 * message between the base commit and HEAD. The agent may have written a key it was given
 * into a file; the push must not carry it to the remote.
 */
export async function secretsInChanges(
  setup: GitSetup,
  dir: string,
  baseSha: string,
  secrets: Array<{ name: string; value: string }>,
): Promise<Array<{ name: string; files: string[] }>> {
  const candidates = secrets.filter((secret) => secret.value.length >= MIN_SCANNED_LENGTH);
  if (candidates.length === 0) return [];
  const git = gitIn(dir, setup);
  const log = await git.raw(['log', '-p', '--no-color', '--format=%B', `${baseSha}..HEAD`]);
  const found: Array<{ name: string; files: string[] }> = [];
  for (const secret of candidates) {
    if (!log.includes(secret.value)) continue;
    const files = (
      await git.raw(['grep', '-l', '-F', '-e', secret.value, 'HEAD', '--']).catch(() => '')
    )
      .split('\n')
      .filter(Boolean)
      .map((line) => line.replace(/^HEAD:/, ''));
    found.push({ name: secret.name, files });
  }
  return found;
}
