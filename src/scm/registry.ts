import { giteaProvider } from './gitea/pull-request.js';
import { githubProvider } from './github/provider.js';
import { gitlabProvider } from './gitlab/merge-request.js';
import type { ScmProvider, ScmProviderId } from './provider.js';

/** Every SCM the worker speaks. A fourth is one module and one line here. */
export const SCM_PROVIDERS: Record<ScmProviderId, ScmProvider> = {
  github: githubProvider,
  gitlab: gitlabProvider,
  gitea: giteaProvider,
};

/**
 * The provider of a repository: `repository.provider`, else from the host as runtime.md says
 * (gitlab.com → gitlab, any other host → github). A local path has GitHub's defaults, which
 * only name the token (no request is opened for a local repository).
 */
export function scmProviderFor(repository: { provider?: ScmProviderId; url?: URL }): ScmProvider {
  if (repository.provider) return SCM_PROVIDERS[repository.provider];
  const host = repository.url?.hostname.toLowerCase();
  return host === 'gitlab.com' ? gitlabProvider : githubProvider;
}

/**
 * The API base: `repository.apiUrl`; for GitHub, else `GITHUB_API_URL`; else the provider's
 * default from the repository's origin.
 */
export function scmApiUrl(
  provider: ScmProvider,
  repoUrl: URL,
  apiUrl: string | undefined,
  githubApiUrl: string | undefined,
): string {
  const chosen =
    apiUrl ??
    (provider.id === 'github' ? githubApiUrl : undefined) ??
    provider.defaultApiUrl(repoUrl);
  return chosen.replace(/\/+$/, '');
}
