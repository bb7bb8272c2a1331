import { requestJson, ScmHttpError } from '../http-json.js';
import type { ChangeRequestSpec, OpenedChangeRequest, ScmProvider } from '../provider.js';
import { changeRequestError, scmMessageOf } from '../scm-errors.js';

interface MergeRequest {
  iid: number;
  web_url: string;
}

/**
 * The project's full path (groups and subgroups) from the repository URL. When GitLab lives
 * under a path (`https://host/gitlab/…`, API `https://host/gitlab/api/v4`), that prefix is
 * not part of the project path.
 */
export function gitlabProjectPath(repoUrl: URL, apiUrl: string): string {
  let path = repoUrl.pathname.replace(/\.git$/, '').replace(/^\/+|\/+$/g, '');
  const api = new URL(apiUrl);
  const prefix = api.pathname.replace(/\/api\/v4\/?$/, '').replace(/^\/+|\/+$/g, '');
  if (api.origin === repoUrl.origin && prefix && path.startsWith(`${prefix}/`)) {
    path = path.slice(prefix.length + 1);
  }
  return path;
}

/**
 * GitLab (GitLab.com or self-managed): a merge request from the work branch, or the open one
 * it already has. Projects are addressed by their URL-encoded full path; the token goes in
 * `Authorization: Bearer`, which GitLab takes for personal, project, group and OAuth tokens.
 * A small typed helper rather than @gitbeaker/rest: two calls do not justify a client that
 * covers the whole API (docs/decisions.md).
 */
export const gitlabProvider: ScmProvider = {
  id: 'gitlab',
  displayName: 'GitLab',
  requestNoun: 'merge request',
  tokenSecret: 'GITLAB_TOKEN',
  // GitLab documents `oauth2` as the user name for a token over HTTPS.
  gitUsername: 'oauth2',
  tokenScopes: 'a token with the api and write_repository scopes (Developer role or above)',

  defaultApiUrl: (repoUrl) => `${repoUrl.origin}/api/v4`,

  async openOrReuse(spec: ChangeRequestSpec): Promise<OpenedChangeRequest> {
    const api = spec.apiUrl.replace(/\/+$/, '');
    const projectPath = gitlabProjectPath(spec.repoUrl, api);
    const project = `${api}/projects/${encodeURIComponent(projectPath)}`;
    const headers = { authorization: `Bearer ${spec.token}`, 'user-agent': spec.userAgent };
    const call = {
      timeoutMs: spec.timeoutMs,
      signal: spec.signal,
      onRateLimitWait: rateLimitLog(spec),
    };
    try {
      try {
        const { data } = await requestJson<MergeRequest>(
          {
            method: 'POST',
            url: `${project}/merge_requests`,
            headers,
            body: {
              source_branch: spec.head,
              target_branch: spec.base,
              title: spec.title,
              description: spec.body,
            },
          },
          call,
        );
        return { url: data.web_url, number: data.iid, reused: false };
      } catch (error) {
        // 409 "Another open merge request already exists for this source branch": reuse it.
        if (!(error instanceof ScmHttpError && error.status === 409)) throw error;
        const query = new URLSearchParams({
          state: 'opened',
          source_branch: spec.head,
          target_branch: spec.base,
        });
        const { data } = await requestJson<MergeRequest[]>(
          { method: 'GET', url: `${project}/merge_requests?${query}`, headers },
          call,
        );
        const open = data[0];
        if (!open) throw error;
        return { url: open.web_url, number: open.iid, reused: true };
      }
    } catch (error) {
      throw changeRequestError(error, gitlabProvider, spec, scmMessageOf, projectPath);
    }
  },
};

function rateLimitLog(spec: ChangeRequestSpec) {
  return (info: { seconds: number; method: string; url: string }) =>
    spec.onRateLimitWait?.({ kind: 'rate limit', ...info });
}
