import { type FailureCode, WorkerError } from '../errors.js';
import { CommandStoppedError } from '../process/run-command.js';
import { stoppedGitError } from './git-runner.js';

export type { GitSetup } from './git-runner.js';

/** The words of a failed git command (its stderr), or any error's message. */
export function gitErrorText(error: unknown): string {
  return error instanceof Error ? error.message.trim() : String(error);
}

export type AuthProblem = 'unauthorized' | 'forbidden' | 'not_found';

/** Recognises the credential problems git reports for HTTP remotes. */
export function authProblemOf(text: string): AuthProblem | undefined {
  if (
    /could not read Username|Authentication failed|\b401\b|Unauthorized|invalid credentials/i.test(
      text,
    )
  )
    return 'unauthorized';
  if (
    /\b403\b|Forbidden|Permission to .* denied|Write access to repository not granted/i.test(text)
  )
    return 'forbidden';
  if (/\b404\b|Repository not found|does not appear to be a git repository|not found/i.test(text))
    return 'not_found';
  return undefined;
}

/** The credential advice that goes with an auth problem. */
export function credentialAdvice(
  problem: AuthProblem,
  action: string,
  tokenSecret = 'GITHUB_TOKEN',
): string {
  switch (problem) {
    case 'unauthorized':
      return `the git server refused the credentials (401) while trying to ${action}: check that the ${tokenSecret} secret holds a valid, unexpired token`;
    case 'forbidden':
      return `the git server denied access (403) while trying to ${action}: check that the ${tokenSecret} secret's token may ${action === 'clone' ? 'read' : 'write to'} this repository`;
    case 'not_found':
      return `the repository was not found (404) while trying to ${action}: check repository.url and that the ${tokenSecret} secret's token can see the repository`;
  }
}

/** The lines of git's stderr worth showing a person: `remote:`, `fatal:`, `error:` and `!` lines. */
export function gitHeadline(text: string): string {
  const lines = text
    .split('\n')
    .map((line) => line.replace(/\s+/g, ' ').trim())
    .filter((line) => /^(fatal|error|remote|!)/.test(line));
  return (lines.length > 0 ? lines : [text.split('\n')[0] ?? '']).slice(0, 3).join(' | ');
}

/**
 * The end of every git failure's classification: a credential problem is not retryable and
 * names the secret to check; anything else (network, server) is retryable with git's words.
 */
export function gitFailure(
  code: Extract<FailureCode, 'clone_failed' | 'push_failed'>,
  action: 'clone' | 'push',
  text: string,
  cause: unknown,
  tokenSecret?: string,
): WorkerError {
  if (cause instanceof CommandStoppedError) return stoppedGitError(cause, code, action);
  if (/Operation too slow|Operation timed out|Connection timed out/i.test(text)) {
    return new WorkerError(
      code,
      `${action} failed: the git server stopped sending or answering (${gitHeadline(text)}); it is given VIBERATOR_GIT_STALL_TIMEOUT seconds without progress — retry later`,
      { retryable: true, cause },
    );
  }
  const problem = authProblemOf(text);
  const detail = problem ? credentialAdvice(problem, action, tokenSecret) : gitHeadline(text);
  return new WorkerError(code, `${action} failed: ${detail}`, { retryable: !problem, cause });
}
