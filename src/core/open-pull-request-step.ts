import type { Clanker, Payload } from '../payload/schema.js';
import type { ValidatedPayload } from '../payload/validate.js';
import type { ScmProvider } from '../scm/provider.js';
import { scmApiUrl } from '../scm/registry.js';
import { VERSION } from '../version.js';
import { changeTitle, pullRequestBody } from './pull-request-text.js';
import type { JobOptions } from './worker.js';

/**
 * The opening_pr step: a pull request (GitHub, Gitea) or merge request (GitLab) for a remote
 * repository, opened or reused; for a local one the step says why there is none.
 */
export async function openPr(
  scm: ScmProvider,
  payload: Payload,
  validated: ValidatedPayload,
  clanker: Clanker,
  branch: string,
  token: string,
  summary: string | undefined,
  changedFiles: string[],
  options: JobOptions,
): Promise<{ url: string; number: number } | undefined> {
  if (validated.repository.kind !== 'remote') {
    options.events.emit({
      type: 'log',
      level: 'info',
      message: `no ${scm.requestNoun}: the repository is a local path; the branch ${branch} was pushed to it`,
    });
    return undefined;
  }
  const repoUrl = validated.repository.url;
  return scm.openOrReuse({
    apiUrl: scmApiUrl(scm, repoUrl, payload.repository.apiUrl, options.env.githubApiUrl),
    token,
    repoUrl,
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
        message: `${scm.displayName} ${kind}: waiting ${seconds} s before retrying ${method} ${url}`,
      }),
    // Each failed attempt ("GET /repos/… - 502 with id … in 39ms"); the Result tells the end.
    log: (message) => options.logger.warn(`${scm.displayName} API: ${message}`),
  });
}
