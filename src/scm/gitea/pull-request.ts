import { repoSlugFromUrl } from '../github/repo-slug.js';
import { requestJson, ScmHttpError } from '../http-json.js';
import type { ChangeRequestSpec, OpenedChangeRequest, ScmProvider } from '../provider.js';
import { changeRequestError, scmMessageOf } from '../scm-errors.js';

interface GiteaPull {
  number: number;
  html_url: string;
  state: string;
  head?: { ref?: string };
  base?: { ref?: string };
}

/**
 * Gitea and Forgejo: a pull request from the work branch, or the open one it already has for
 * the same head and base. The token goes in `Authorization: token`, as Gitea documents; the
 * project's own HTTP helper (two calls) rather than a client library.
 */
export const giteaProvider: ScmProvider = {
  id: 'gitea',
  displayName: 'Gitea',
  requestNoun: 'pull request',
  tokenSecret: 'GITEA_TOKEN',
  // Gitea takes a token as the password of any user name (services/auth/basic.go).
  gitUsername: 'oauth2',
  tokenScopes: 'a token with the write:repository scope',

  defaultApiUrl: (repoUrl) => `${repoUrl.origin}/api/v1`,

  async openOrReuse(spec: ChangeRequestSpec): Promise<OpenedChangeRequest> {
    const slug = repoSlugFromUrl(spec.repoUrl);
    const label = slug ? `${slug.owner}/${slug.repo}` : spec.repoUrl.pathname;
    try {
      if (!slug) throw new Error(`cannot tell owner and repository from ${spec.repoUrl.href}`);
      const repo = `${spec.apiUrl.replace(/\/+$/, '')}/repos/${encodeURIComponent(slug.owner)}/${encodeURIComponent(slug.repo)}`;
      const headers = { authorization: `token ${spec.token}`, 'user-agent': spec.userAgent };
      const call = {
        timeoutMs: spec.timeoutMs,
        signal: spec.signal,
        onRateLimitWait: (info: { seconds: number; method: string; url: string }) =>
          spec.onRateLimitWait?.({ kind: 'rate limit', ...info }),
      };
      try {
        const { data } = await requestJson<GiteaPull>(
          {
            method: 'POST',
            url: `${repo}/pulls`,
            headers,
            body: { head: spec.head, base: spec.base, title: spec.title, body: spec.body },
          },
          call,
        );
        return { url: data.html_url, number: data.number, reused: false };
      } catch (error) {
        // 409 "pull request already exists for these targets": reuse the open one.
        if (!(error instanceof ScmHttpError && error.status === 409)) throw error;
        const open = await findOpen(repo, spec, headers, call);
        if (!open) throw error;
        return { url: open.html_url, number: open.number, reused: true };
      }
    } catch (error) {
      throw changeRequestError(error, giteaProvider, spec, scmMessageOf, label);
    }
  },
};

/**
 * The open pull request for head and base: Gitea ≥ 1.17 (and Forgejo) answer
 * `GET /pulls/{base}/{head}` directly; older servers get the list of open ones.
 */
async function findOpen(
  repo: string,
  spec: ChangeRequestSpec,
  headers: Record<string, string>,
  call: Parameters<typeof requestJson>[1],
): Promise<GiteaPull | undefined> {
  try {
    const { data } = await requestJson<GiteaPull>(
      {
        method: 'GET',
        // The head is the route's wildcard: its slashes stay slashes.
        url: `${repo}/pulls/${encodeURIComponent(spec.base)}/${spec.head.split('/').map(encodeURIComponent).join('/')}`,
        headers,
      },
      call,
    );
    if (data.state === 'open') return data;
  } catch (error) {
    if (!(error instanceof ScmHttpError && error.status === 404)) throw error;
  }
  const { data } = await requestJson<GiteaPull[]>(
    { method: 'GET', url: `${repo}/pulls?state=open&limit=50`, headers },
    call,
  );
  return data.find((pull) => pull.head?.ref === spec.head && pull.base?.ref === spec.base);
}
