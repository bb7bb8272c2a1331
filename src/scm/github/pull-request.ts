import { WorkerError } from '../../errors.js';

export interface PullRequestSpec {
  apiUrl: string;
  token: string;
  owner: string;
  repo: string;
  head: string;
  base: string;
  title: string;
  body: string;
  userAgent: string;
}

export interface OpenedPullRequest {
  url: string;
  number: number;
  reused: boolean;
}

interface GitHubHttpError {
  status: number;
  message: string;
  response?: {
    data?: {
      message?: string;
      errors?: Array<{ message?: string; code?: string; field?: string }>;
    };
  };
}

let octokitModule: Promise<typeof import('@octokit/rest')> | undefined;

/**
 * Starts loading Octokit without waiting: jobs that will open a pull request call this when
 * the agent starts, so the module is ready when it is needed and jobs that never open one
 * never pay for it.
 */
export function preloadGitHubClient(): void {
  octokitModule ??= import('@octokit/rest');
  octokitModule.catch(() => {});
}

/**
 * Opens the pull request, or returns the open one for the same head (a retried job).
 * GitHub Enterprise works through `apiUrl`.
 */
export async function openPullRequest(spec: PullRequestSpec): Promise<OpenedPullRequest> {
  preloadGitHubClient();
  const { Octokit } = await (octokitModule as Promise<typeof import('@octokit/rest')>);
  const octokit = new Octokit({
    auth: spec.token,
    baseUrl: spec.apiUrl,
    userAgent: spec.userAgent,
    request: { retries: 0 },
    log: { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} },
  });
  const findOpen = async (): Promise<OpenedPullRequest | undefined> => {
    const { data } = await octokit.rest.pulls.list({
      owner: spec.owner,
      repo: spec.repo,
      state: 'open',
      head: `${spec.owner}:${spec.head}`,
      per_page: 1,
    });
    const open = data[0];
    return open ? { url: open.html_url, number: open.number, reused: true } : undefined;
  };
  try {
    const existing = await findOpen();
    if (existing) return existing;
    try {
      const { data } = await octokit.rest.pulls.create({
        owner: spec.owner,
        repo: spec.repo,
        head: spec.head,
        base: spec.base,
        title: spec.title,
        body: spec.body,
      });
      return { url: data.html_url, number: data.number, reused: false };
    } catch (error) {
      // Another attempt opened it between our look-up and create.
      if (/already exists/i.test(githubMessage(error as GitHubHttpError))) {
        const raced = await findOpen();
        if (raced) return raced;
      }
      throw error;
    }
  } catch (error) {
    throw prError(error, spec);
  }
}

/** GitHub's own words: its message and each validation error's message or code. */
function githubMessage(error: GitHubHttpError): string {
  const data = error.response?.data;
  const details = (data?.errors ?? [])
    .map((item) => item.message ?? [item.field, item.code].filter(Boolean).join(' '))
    .filter(Boolean);
  const main = data?.message ?? error.message;
  return details.length > 0 ? `${main}: ${details.join('; ')}` : main;
}

function prError(error: unknown, spec: PullRequestSpec): WorkerError {
  const httpError = error as GitHubHttpError;
  if (typeof httpError?.status !== 'number') {
    return new WorkerError(
      'pr_failed',
      `pull request failed: could not reach GitHub at ${spec.apiUrl}: ${(error as Error).message}`,
      { retryable: true, cause: error },
    );
  }
  const status = httpError.status;
  const hint =
    status === 401
      ? ' (check the GITHUB_TOKEN secret)'
      : status === 403 || status === 404
        ? ` (check that the GITHUB_TOKEN secret's token may open pull requests on ${spec.owner}/${spec.repo})`
        : '';
  return new WorkerError(
    'pr_failed',
    `pull request failed: GitHub answered ${status}: ${githubMessage(httpError)}${hint}`,
    { retryable: status >= 500, cause: error },
  );
}
