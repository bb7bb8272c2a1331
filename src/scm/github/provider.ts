import { WorkerError } from '../../errors.js';
import type { ChangeRequestSpec, OpenedChangeRequest, ScmProvider } from '../provider.js';
import { openPullRequest, preloadGitHubClient } from './pull-request.js';
import { repoSlugFromUrl } from './repo-slug.js';

/** GitHub and GitHub Enterprise, through Octokit with its retry and throttling plugins. */
export const githubProvider: ScmProvider = {
  id: 'github',
  displayName: 'GitHub',
  requestNoun: 'pull request',
  tokenSecret: 'GITHUB_TOKEN',
  // GitHub documents `x-access-token` as the user name for an installation token over HTTPS;
  // personal tokens work with it too.
  gitUsername: 'x-access-token',
  tokenScopes:
    'a fine-grained token (or GitHub App) with Contents and Pull requests: read and write; a classic token with repo',

  defaultApiUrl: (repoUrl) =>
    repoUrl.hostname === 'github.com' ? 'https://api.github.com' : `${repoUrl.origin}/api/v3`,

  preload: preloadGitHubClient,

  async openOrReuse(spec: ChangeRequestSpec): Promise<OpenedChangeRequest> {
    const slug = repoSlugFromUrl(spec.repoUrl);
    if (!slug) {
      throw new WorkerError(
        'pr_failed',
        `pull request failed: cannot tell owner and repository from ${spec.repoUrl.href}`,
        { retryable: false },
      );
    }
    return openPullRequest({ ...spec, ...slug });
  },
};
