/**
 * A local stand-in for the slice of GitHub's REST API that opening a pull request needs.
 *
 * It answers with GitHub's JSON shapes and error bodies, so the real Octokit client runs
 * against it unchanged (its `baseUrl` pointed at {@link GitHubStandIn.apiUrl}).
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { FaultQueues, listenOnLoopback } from './stand-in-kit.js';

/** Options for {@link startGitHubStandIn}. */
export interface GitHubStandInOptions {
  /** The only token accepted, as `Authorization: token X` or `Bearer X`. */
  token: string;
  /** `''` (default) for api.github.com-style paths, `/api/v3` for GitHub Enterprise Server. */
  pathPrefix?: string;
  /**
   * Whether a branch exists, e.g. backed by the demo git server's bare repositories. When
   * given, creating a PR whose head or base is missing fails as GitHub does.
   */
  branchExists?: (owner: string, repo: string, branch: string) => Promise<boolean>;
  /** `default_branch` reported for every repository. Default `main`. */
  defaultBranch?: string;
  /** Login of the user the token belongs to; becomes each PR's `user`. Default `viberator-bot`. */
  login?: string;
}

/** A minimal GitHub `repository` object as nested in pull requests. */
export interface RepoRef {
  name: string;
  full_name: string;
  owner: { login: string };
}

/** A pull request as GitHub's REST API returns it (the fields a PR opener reads). */
export interface PullRecord {
  id: number;
  number: number;
  node_id: string;
  url: string;
  html_url: string;
  state: 'open' | 'closed';
  title: string;
  body: string | null;
  draft: boolean;
  locked: boolean;
  merged: boolean;
  maintainer_can_modify: boolean;
  user: { login: string; type: string };
  head: { ref: string; label: string; sha?: string; repo: RepoRef };
  base: { ref: string; label: string; repo: RepoRef };
  created_at: string;
  updated_at: string;
  closed_at: string | null;
}

/** Routes {@link GitHubStandIn.failNext} and {@link GitHubStandIn.fault} can break. */
export type FailableRoute = 'create_pull' | 'list_pulls';

/**
 * What a scripted fault does to a request on its route: answer with `status`, GitHub's error
 * body (`message`, `errors`) and extra `headers` (a function is called when the answer is
 * sent, for headers that depend on the time such as `x-ratelimit-reset`); or `'hang'`: read
 * the request and never answer (the connection stays open until the client gives up or the
 * stand-in closes).
 */
export type Fault =
  | {
      status: number;
      message: string;
      errors?: unknown[];
      documentationUrl?: string;
      headers?: Record<string, string> | (() => Record<string, string>);
    }
  | 'hang';

/** A running stand-in returned by {@link startGitHubStandIn}. */
export interface GitHubStandIn {
  /** `http://127.0.0.1:PORT`, the web root that `html_url`s point into. */
  baseUrl: string;
  /** Root of the REST API: the server's base URL plus `pathPrefix`. */
  apiUrl: string;
  /** Every pull request created, across repositories, in creation order. */
  pulls: PullRecord[];
  /**
   * Every request received; `path` is the request target as sent, `body` the parsed JSON,
   * `at` when it arrived (`Date.now()`).
   */
  requests: Array<{ method: string; path: string; body: unknown; at: number }>;
  /** Makes the next request on `route` fail with `status` and GitHub's error body shape. */
  failNext(route: FailableRoute, status: number, message: string, errors?: unknown[]): void;
  /**
   * Queues `fault` for the next `times` requests on `route` (default 1), after any faults
   * already queued there; `'always'` keeps it until {@link GitHubStandIn.clearFaults}.
   * Requests with a bad token are still answered 401 first, as on GitHub.
   */
  fault(route: FailableRoute, fault: Fault, times?: number | 'always'): void;
  /** Drops every queued fault: the routes answer normally again. */
  clearFaults(): void;
  /** Stops listening and drops keep-alive connections. */
  close(): Promise<void>;
}

interface Reply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

const DOCS_RATE_LIMITS = 'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api';

/**
 * GitHub's answer when the token's primary rate limit is used up: 403 (or 429) with
 * `x-ratelimit-remaining: 0` and `x-ratelimit-reset`, the epoch second it lifts, here
 * `resetInSeconds` after the answer is sent.
 */
export function primaryRateLimit(opts: { resetInSeconds: number; status?: 403 | 429 }): Fault {
  return {
    status: opts.status ?? 403,
    message: 'API rate limit exceeded for user ID 4242.',
    documentationUrl: DOCS_RATE_LIMITS,
    headers: () => ({
      'X-RateLimit-Limit': '5000',
      'X-RateLimit-Remaining': '0',
      'X-RateLimit-Used': '5000',
      'X-RateLimit-Reset': String(Math.floor(Date.now() / 1000) + opts.resetInSeconds),
      'X-RateLimit-Resource': 'core',
    }),
  };
}

/**
 * GitHub's answer to too many requests in a short time (a secondary rate limit): 403 (or 429)
 * saying so, with `retry-after` in seconds when given.
 */
export function secondaryRateLimit(opts: {
  retryAfterSeconds?: number;
  status?: 403 | 429;
}): Fault {
  return {
    status: opts.status ?? 403,
    message:
      'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.',
    documentationUrl: `${DOCS_RATE_LIMITS}#about-secondary-rate-limits`,
    headers:
      opts.retryAfterSeconds === undefined ? {} : { 'Retry-After': String(opts.retryAfterSeconds) },
  };
}

const DOCS = 'https://docs.github.com/rest';
const DOCS_CREATE_PULL = `${DOCS}/pulls/pulls#create-a-pull-request`;

/** GitHub's error body: message, optional errors, documentation_url and the status as a string. */
function errorBody(status: number, message: string, errors?: unknown[], docs = DOCS): unknown {
  return {
    message,
    ...(errors ? { errors } : {}),
    documentation_url: docs,
    status: String(status),
  };
}

function validationFailed(errors: unknown[]): Reply {
  return { status: 422, body: errorBody(422, 'Validation Failed', errors, DOCS_CREATE_PULL) };
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Accepts `token X` (what Octokit sends for classic tokens) and `Bearer X`, any case. */
function authorized(header: string | undefined, token: string): boolean {
  const match = /^(token|bearer)\s+(\S+)\s*$/i.exec(header ?? '');
  return match?.[2] !== undefined && sameSecret(match[2], token);
}

async function readJson(req: IncomingMessage): Promise<{ ok: boolean; value: unknown }> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return { ok: true, value: undefined };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false, value: text };
  }
}

let requestCounter = 0;

function send(res: ServerResponse, reply: Reply): void {
  const payload = reply.status === 204 ? '' : JSON.stringify(reply.body);
  requestCounter += 1;
  res.writeHead(reply.status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(payload),
    'X-GitHub-Media-Type': 'github.v3; format=json',
    // Octokit puts this id in its logs and errors, as support would ask for it on GitHub.
    'X-GitHub-Request-Id': `STAND-IN:${requestCounter.toString(16).toUpperCase()}`,
    ...reply.headers,
  });
  res.end(payload);
}

function asString(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/**
 * Starts the stand-in on a random port of 127.0.0.1.
 *
 * Routes: `GET /repos/{o}/{r}`, `GET|POST /repos/{o}/{r}/pulls`,
 * `GET|PATCH /repos/{o}/{r}/pulls/{n}`. Everything else is 404 `{"message":"Not Found"}`.
 */
export async function startGitHubStandIn(opts: GitHubStandInOptions): Promise<GitHubStandIn> {
  const prefix = (opts.pathPrefix ?? '').replace(/\/+$/, '');
  const defaultBranch = opts.defaultBranch ?? 'main';
  const login = opts.login ?? 'viberator-bot';
  const pulls: PullRecord[] = [];
  const requests: GitHubStandIn['requests'] = [];
  const faults = new FaultQueues<FailableRoute, Fault>();
  const nextNumber = new Map<string, number>();
  let baseUrl = '';
  let apiUrl = '';

  const repoRef = (owner: string, repo: string): RepoRef => ({
    name: repo,
    full_name: `${owner}/${repo}`,
    owner: { login: owner },
  });

  const pullsOf = (owner: string, repo: string): PullRecord[] =>
    pulls.filter((p) => p.base.repo.full_name === `${owner}/${repo}`);

  /** Head as GitHub takes it: `branch` (same repo) or `owner:branch` (possibly a fork). */
  const parseHead = (owner: string, head: string): { owner: string; ref: string } => {
    const colon = head.indexOf(':');
    return colon < 0
      ? { owner, ref: head }
      : { owner: head.slice(0, colon), ref: head.slice(colon + 1) };
  };

  /** The fault for this request on `route`, if one is queued; uses up one of its times. */
  const takeFault = (route: FailableRoute): Fault | undefined => faults.take(route);

  /** Which failable route a request is on, if any. */
  const failableRoute = (method: string, path: string): FailableRoute | undefined => {
    if (!/^\/repos\/[^/]+\/[^/]+\/pulls\/?$/.test(path)) return undefined;
    return method === 'GET' ? 'list_pulls' : method === 'POST' ? 'create_pull' : undefined;
  };

  const getRepo = (owner: string, repo: string): Reply => ({
    status: 200,
    body: {
      id: hashId(`${owner}/${repo}`),
      name: repo,
      full_name: `${owner}/${repo}`,
      private: true,
      owner: { login: owner, type: 'Organization' },
      html_url: `${baseUrl}/${owner}/${repo}`,
      url: `${apiUrl}/repos/${owner}/${repo}`,
      clone_url: `${baseUrl}/${owner}/${repo}.git`,
      default_branch: defaultBranch,
    },
  });

  const listPulls = (owner: string, repo: string, query: URLSearchParams): Reply => {
    const state = query.get('state') ?? 'open';
    const head = query.get('head');
    const base = query.get('base');
    // GitHub reads head as "user:ref-name", or a bare "user" for all of that user's heads;
    // a bare branch name is therefore taken as a user and usually matches nothing.
    const headMatches = (p: PullRecord): boolean =>
      head === null ||
      (head.includes(':') ? p.head.label === head : p.head.repo.owner.login === head);
    const matches = pullsOf(owner, repo).filter(
      (p) =>
        (state === 'all' || p.state === state) &&
        headMatches(p) &&
        (base === null || p.base.ref === base),
    );
    const perPage = Math.min(Number(query.get('per_page') ?? 30) || 30, 100);
    const page = Math.max(Number(query.get('page') ?? 1) || 1, 1);
    // Newest first, as GitHub's default sort (created, desc) returns them.
    const sorted = [...matches].reverse();
    return { status: 200, body: sorted.slice((page - 1) * perPage, page * perPage) };
  };

  const createPull = async (owner: string, repo: string, body: unknown): Promise<Reply> => {
    const input = (body ?? {}) as Record<string, unknown>;
    const title = asString(input.title);
    const headInput = asString(input.head);
    const base = asString(input.base);
    const missing = [
      ['title', title],
      ['head', headInput],
      ['base', base],
    ]
      .filter(([, v]) => v === undefined)
      .map(([field]) => ({ resource: 'PullRequest', field, code: 'missing_field' }));
    if (missing.length > 0 || !title || !headInput || !base) return validationFailed(missing);

    const head = parseHead(owner, headInput);
    const label = `${head.owner}:${head.ref}`;
    if (opts.branchExists) {
      const [headOk, baseOk] = await Promise.all([
        opts.branchExists(head.owner, repo, head.ref),
        opts.branchExists(owner, repo, base),
      ]);
      const invalid = [
        ...(baseOk ? [] : [{ resource: 'PullRequest', field: 'base', code: 'invalid' }]),
        ...(headOk ? [] : [{ resource: 'PullRequest', field: 'head', code: 'invalid' }]),
      ];
      if (invalid.length > 0) return validationFailed(invalid);
    }
    if (head.owner === owner && head.ref === base) {
      return validationFailed([
        {
          resource: 'PullRequest',
          code: 'custom',
          message: `No commits between ${base} and ${head.ref}`,
        },
      ]);
    }
    const duplicate = pullsOf(owner, repo).find(
      (p) => p.state === 'open' && p.head.label === label,
    );
    if (duplicate) {
      return validationFailed([
        {
          resource: 'PullRequest',
          code: 'custom',
          message: `A pull request already exists for ${label}.`,
        },
      ]);
    }

    const key = `${owner}/${repo}`;
    const number = nextNumber.get(key) ?? 1;
    nextNumber.set(key, number + 1);
    const now = new Date().toISOString();
    const pull: PullRecord = {
      id: hashId(key) * 1000 + number,
      number,
      node_id: Buffer.from(`PR_${key}#${number}`).toString('base64url'),
      url: `${apiUrl}/repos/${owner}/${repo}/pulls/${number}`,
      html_url: `${baseUrl}/${owner}/${repo}/pull/${number}`,
      state: 'open',
      title,
      body: typeof input.body === 'string' ? input.body : null,
      draft: input.draft === true,
      locked: false,
      merged: false,
      maintainer_can_modify: input.maintainer_can_modify !== false,
      user: { login, type: 'Bot' },
      head: { ref: head.ref, label, repo: repoRef(head.owner, repo) },
      base: { ref: base, label: `${owner}:${base}`, repo: repoRef(owner, repo) },
      created_at: now,
      updated_at: now,
      closed_at: null,
    };
    pulls.push(pull);
    return { status: 201, body: pull };
  };

  const findPull = (owner: string, repo: string, number: number): PullRecord | undefined =>
    pullsOf(owner, repo).find((p) => p.number === number);

  const updatePull = (owner: string, repo: string, number: number, body: unknown): Reply => {
    const pull = findPull(owner, repo, number);
    if (!pull) return { status: 404, body: errorBody(404, 'Not Found') };
    const input = (body ?? {}) as Record<string, unknown>;
    if (input.state !== undefined && input.state !== 'open' && input.state !== 'closed') {
      return validationFailed([{ resource: 'PullRequest', field: 'state', code: 'invalid' }]);
    }
    if (typeof input.title === 'string') pull.title = input.title;
    if (typeof input.body === 'string' || input.body === null) pull.body = input.body;
    if (typeof input.base === 'string') {
      pull.base = { ...pull.base, ref: input.base, label: `${owner}:${input.base}` };
    }
    if (input.state === 'closed' && pull.state === 'open') {
      pull.state = 'closed';
      pull.closed_at = new Date().toISOString();
    } else if (input.state === 'open') {
      pull.state = 'open';
      pull.closed_at = null;
    }
    pull.updated_at = new Date().toISOString();
    return { status: 200, body: pull };
  };

  const route = async (method: string, path: string, query: URLSearchParams, body: unknown) => {
    const repoMatch = /^\/repos\/([^/]+)\/([^/]+)(\/pulls(?:\/(\d+))?)?\/?$/.exec(path);
    if (repoMatch?.[1] && repoMatch[2]) {
      const owner = decodeURIComponent(repoMatch[1]);
      const repo = decodeURIComponent(repoMatch[2]);
      const pullsPath = repoMatch[3];
      const number = repoMatch[4] ? Number(repoMatch[4]) : undefined;
      if (!pullsPath && method === 'GET') return getRepo(owner, repo);
      if (pullsPath && number === undefined) {
        if (method === 'GET') return listPulls(owner, repo, query);
        if (method === 'POST') return createPull(owner, repo, body);
      }
      if (number !== undefined) {
        if (method === 'GET') {
          const pull = findPull(owner, repo, number);
          return pull ? { status: 200, body: pull } : undefined;
        }
        if (method === 'PATCH') return updatePull(owner, repo, number, body);
      }
    }
    return undefined;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const method = req.method ?? 'GET';
    const target = req.url ?? '/';
    const parsed = await readJson(req);
    requests.push({ method, path: target, body: parsed.value, at: Date.now() });
    // Credentials are checked before routing, so a bad token is 401 everywhere, as on GitHub.
    if (!authorized(req.headers.authorization, opts.token)) {
      send(res, { status: 401, body: errorBody(401, 'Bad credentials') });
      return;
    }
    if (!parsed.ok) {
      send(res, { status: 400, body: errorBody(400, 'Problems parsing JSON') });
      return;
    }
    const url = new URL(target, 'http://placeholder');
    const notFound = { status: 404, body: errorBody(404, 'Not Found') };
    if (prefix !== '' && !url.pathname.startsWith(`${prefix}/`)) {
      send(res, notFound);
      return;
    }
    const path = url.pathname.slice(prefix.length);
    const failable = failableRoute(method, path);
    const fault = failable && takeFault(failable);
    if (fault === 'hang') return; // read, never answered
    if (fault) {
      send(res, {
        status: fault.status,
        body: errorBody(fault.status, fault.message, fault.errors, fault.documentationUrl),
        headers: typeof fault.headers === 'function' ? fault.headers() : fault.headers,
      });
      return;
    }
    const reply = await route(method, path, url.searchParams, parsed.value);
    send(res, reply ?? notFound);
  };

  const { origin, close } = await listenOnLoopback(handle, (res, message) =>
    send(res, { status: 500, body: errorBody(500, `Stand-in error: ${message}`) }),
  );
  baseUrl = origin;
  apiUrl = `${baseUrl}${prefix}`;

  return {
    baseUrl,
    apiUrl,
    pulls,
    requests,
    failNext: (failRoute, status, message, errors) =>
      faults.add(failRoute, { status, message, errors }),
    fault: (failRoute, fault, times = 1) => faults.add(failRoute, fault, times),
    clearFaults: () => faults.clear(),
    close,
  };
}

/** A stable positive id derived from a name, so ids look like GitHub's without a database. */
function hashId(text: string): number {
  let h = 0;
  for (const ch of text) h = (h * 31 + (ch.codePointAt(0) ?? 0)) >>> 0;
  return (h % 900_000) + 100_000;
}
