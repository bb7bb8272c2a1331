/** The SCMs the worker opens change requests on (runtime.md, "Pull requests and merge requests"). */
export const SCM_PROVIDER_IDS = ['github', 'gitlab', 'gitea'] as const;
export type ScmProviderId = (typeof SCM_PROVIDER_IDS)[number];

/** What opening (or reusing) the change request of a work branch needs. */
export interface ChangeRequestSpec {
  /** The API base, e.g. `https://gitlab.example.com/api/v4`. */
  apiUrl: string;
  token: string;
  /** `repository.url`: owner, group path and repository come from it. */
  repoUrl: URL;
  /** The work branch. */
  head: string;
  /** `project.prBaseBranch`. */
  base: string;
  title: string;
  body: string;
  userAgent: string;
  /** Limit of each attempt of each request, ms (`VIBERATOR_HTTP_TIMEOUT`). */
  timeoutMs: number;
  /** The job's signal (SIGTERM): ends the call at once with `cancelled`. */
  signal?: AbortSignal;
  onRateLimitWait?: (info: { kind: string; seconds: number; method: string; url: string }) => void;
  log?: (message: string) => void;
}

/** The request the work branch has now. */
export interface OpenedChangeRequest {
  url: string;
  /** GitHub and Gitea: the pull request's number; GitLab: the merge request's `iid`. */
  number: number;
  reused: boolean;
}

/**
 * One SCM behind one interface: how git authenticates to it, where its API is, which
 * secret holds its token, and how a change request is opened or reused. Adding a provider
 * (Bitbucket, Azure DevOps) is one module and one line in registry.ts.
 */
export interface ScmProvider {
  readonly id: ScmProviderId;
  readonly displayName: string;
  /** `pull request` or `merge request`, for messages. */
  readonly requestNoun: string;
  /** The payload secret that holds the token (clone, push, API). */
  readonly tokenSecret: string;
  /**
   * The user name git sends with the token as password (HTTP Basic), in the form the SCM
   * documents for tokens over HTTPS.
   */
  readonly gitUsername: string;
  /** The token scopes to grant, for the docs and for error messages. */
  readonly tokenScopes: string;
  /** The API base when the payload gives none: derived from the repository's origin. */
  defaultApiUrl(repoUrl: URL): string;
  /** Starts loading a heavy client while the agent runs, where there is one. */
  preload?(): void;
  openOrReuse(spec: ChangeRequestSpec): Promise<OpenedChangeRequest>;
}
