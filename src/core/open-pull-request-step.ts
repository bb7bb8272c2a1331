import { WorkerError } from '../errors.js';
import type { Clanker, Payload } from '../payload/schema.js';
import type { ValidatedPayload } from '../payload/validate.js';
import { openPullRequest } from '../scm/github/pull-request.js';
import { repoSlugFromUrl } from '../scm/github/repo-slug.js';
import { VERSION } from '../version.js';
import { changeTitle, pullRequestBody } from './pull-request-text.js';
import type { JobOptions } from './worker.js';

/**
 * The opening_pr step: a GitHub pull request for a remote repository; for a local one the
 * step says why there is none.
 */
export async function openPr(
  payload: Payload,
  validated: ValidatedPayload,
  clanker: Clanker,
  branch: string,
  token: string | undefined,
  summary: string | undefined,
  changedFiles: string[],
  options: JobOptions,
): Promise<{ url: string; number: number } | undefined> {
  if (validated.repository.kind !== 'remote') {
    options.events.emit({
      type: 'log',
      level: 'info',
      message: `no pull request: the repository is a local path; the branch ${branch} was pushed to it`,
    });
    return undefined;
  }
  const slug = repoSlugFromUrl(validated.repository.url);
  if (!slug || !token) {
    throw new WorkerError(
      'pr_failed',
      `pull request failed: cannot tell owner and repository from ${validated.repository.url.href}`,
      { retryable: false },
    );
  }
  return openPullRequest({
    apiUrl: options.env.githubApiUrl,
    token,
    ...slug,
    head: branch,
    base: payload.project.prBaseBranch ?? payload.repository.baseBranch,
    title: changeTitle(payload, clanker),
    // The summary is redacted before the body cuts it to length: a secret cut in two would
    // no longer match, and its first part would reach the pull request.
    body: options.redactor.text(
      pullRequestBody({
        payload,
        clanker,
        summary: summary === undefined ? undefined : options.redactor.text(summary),
        changedFiles,
      }),
    ),
    userAgent: `viberator-worker/${VERSION}`,
    timeoutMs: options.env.httpTimeoutMs,
    signal: options.signal,
    onRateLimitWait: ({ kind, seconds, method, url }) =>
      options.events.emit({
        type: 'log',
        level: 'warn',
        message: `GitHub ${kind}: waiting ${seconds} s before retrying ${method} ${url}`,
      }),
    // Each failed attempt ("GET /repos/… - 502 with id … in 39ms"); the Result tells the end.
    log: (message) => options.logger.warn(`GitHub API: ${message}`),
  });
}
