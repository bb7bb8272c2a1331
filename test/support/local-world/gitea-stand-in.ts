/**
 * A local stand-in for the slice of the Gitea / Forgejo REST API (v1) that opening a pull
 * request needs.
 *
 * It answers with their JSON shapes and error bodies (`{"message": …, "url": "<root>/api/swagger"}`),
 * so a Gitea or Forgejo client runs against it unchanged with its base URL pointed at
 * {@link GiteaStandIn.apiUrl}. The two differ in their 404 body, chosen by `flavor`.
 *
 * Routes, under `pathPrefix` (default `/api/v1`):
 * - `GET  /repos/{owner}/{repo}/pulls` — `state` (`open` default, `closed`, `all`; anything else
 *   is `all`, as in Gitea), `base_branch`, `sort=oldest` (else newest first), `page`, `limit`.
 * - `POST /repos/{owner}/{repo}/pulls` — JSON `{ head, base, title, body }`; `head` is `branch`
 *   or `owner:branch` (another owner's branch is taken from that owner's repository of the
 *   same name, as from a fork).
 * - `GET  /repos/{owner}/{repo}/pulls/{index}`.
 * - `GET  /repos/{owner}/{repo}/pulls/{base}/{head}` (Gitea 1.22 on, go-gitea/gitea#29242;
 *   Forgejo has it too). As Gitea routes it (`/{base}/*`), `{base}` is exactly one path
 *   segment and `{head}` is all the rest, so a
 *   head with slashes needs no escaping: `…/pulls/main/viberator/ENG-1`. A base with a slash
 *   must be sent escaped (`release%2F1`). `{head}` may also be `owner:branch` or
 *   `owner/repo:branch`. It answers the oldest pull request for that base and head, open or
 *   closed (Gitea's query has no order and no state filter). A single-segment head named
 *   `commits`, `files`, `merge` or `reviews` reaches Gitea's `/{index}/…` routes instead and is
 *   answered 404, as there.
 *
 * Everything else under the prefix is a 404 with the flavor's not-found body.
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { FaultQueues, listenOnLoopback } from './stand-in-kit.js';

/** Options for {@link startGiteaStandIn}. */
export interface GiteaStandInOptions {
  /**
   * The only token accepted: as `Authorization: token X` or `Bearer X`, or with HTTP Basic as
   * the password (any username) or as the username (empty password or `x-oauth-basic`).
   */
  token: string;
  /**
   * Whether a branch exists, e.g. backed by the demo git server's bare repositories.
   * Consulted for the base and the head of every pull request created.
   */
  branchExists: (owner: string, repo: string, branch: string) => Promise<boolean>;
  /** Root of the API on the server. Default `/api/v1`; `/git/api/v1` for a sub-path install. */
  pathPrefix?: string;
  /**
   * `gitea` (default) answers 404 with `{"message":"not found","url":…}` (Gitea 1.24 on);
   * `forgejo` with `{"message":"The target couldn't be found.","url":…,"errors":[…]}`.
   */
  flavor?: 'gitea' | 'forgejo';
  /**
   * `owner/repo` names of the repositories that exist, in id order (ids from 1); lookups ignore
   * case, as Gitea's do. When omitted every repository exists and gets the next id the first
   * time it is used.
   */
  repos?: string[];
  /** Login of the token's user; becomes each pull request's `user`. Default `viberator-bot`. */
  login?: string;
}

/** A repository as nested in a pull request's `head` and `base` (the fields a client reads). */
export interface RepoRef {
  id: number;
  name: string;
  full_name: string;
  owner: { login: string };
  html_url: string;
}

/** One end of a pull request. Gitea's `label` is the bare branch name, not `owner:branch`. */
export interface BranchRef {
  label: string;
  ref: string;
  repo_id: number;
  repo: RepoRef;
}

/** A pull request as Gitea's API returns it (the fields a client opening one reads). */
export interface PullRecord {
  /** Unique across the instance (the pull request's row); not the number in URLs. */
  id: number;
  /** Number within the repository, from 1 (shared with issues on a real instance). */
  number: number;
  /** Gitea's `url` is the web page, like `html_url`. */
  url: string;
  html_url: string;
  diff_url: string;
  patch_url: string;
  title: string;
  body: string;
  state: 'open' | 'closed';
  /** True when the title starts with `WIP:` or `[WIP]`, any case (Gitea's default prefixes). */
  draft: boolean;
  is_locked: boolean;
  merged: boolean;
  merged_at: string | null;
  user: { id: number; login: string };
  head: BranchRef;
  base: BranchRef;
  created_at: string;
  updated_at: string;
  closed_at: string | null;
}

/** A request as the stand-in received it. */
export interface RecordedRequest {
  method: string;
  /** The request target as sent: path and query, percent-encoding untouched. */
  path: string;
  /** The parsed JSON body; `undefined` when empty, the raw text when it does not parse. */
  body: unknown;
  /** When it arrived (`Date.now()`). */
  at: number;
  /** Its headers, without `authorization` and `cookie`. */
  headers: IncomingHttpHeaders;
}

/** Routes {@link GiteaStandIn.fault} can break; `get_pull` is both single-pull GETs. */
export type FailableRoute = 'create_pull' | 'list_pulls' | 'get_pull';

type Headers = Record<string, string>;

/**
 * What a scripted fault does to a request on its route:
 * - `{ status, message }`: answer `status` with Gitea's error body `{"message", "url"}`;
 * - `{ status, text }`: answer `status` with a plain-text body (what a proxy in front sends);
 * - `'hang'`: read the request and never answer (the connection stays open until the client
 *   gives up or the stand-in closes).
 *
 * `headers` are added to the answer; a function is called when the answer is sent.
 */
export type Fault =
  | { status: number; message: string; headers?: Headers | (() => Headers) }
  | { status: number; text: string; headers?: Headers | (() => Headers) }
  | 'hang';

/** A running stand-in returned by {@link startGiteaStandIn}. */
export interface GiteaStandIn {
  /** `http://127.0.0.1:PORT` plus the prefix without `/api/v1`: the root `html_url`s point into. */
  baseUrl: string;
  /** Root of the REST API: `http://127.0.0.1:PORT/api/v1` by default. */
  apiUrl: string;
  /**
   * Every pull request created, across repositories, in creation order. The records are the
   * objects the API serves: a test may change one (say `state = 'closed'`) to stage a case.
   */
  pulls: PullRecord[];
  /** Every request received, in order. */
  requests: RecordedRequest[];
  /**
   * Queues `fault` for the next `times` requests on `route` (default 1), after any faults
   * already queued there; `'always'` keeps it until {@link GiteaStandIn.clearFaults}.
   * Requests with bad credentials are still answered 401 first.
   */
  fault(route: FailableRoute, fault: Fault, times?: number | 'always'): void;
  /** Drops every queued fault: the routes answer normally again. */
  clearFaults(): void;
  /** Stops listening and ends every connection, hanging ones included. Idempotent. */
  close(): Promise<void>;
}

/**
 * A throttled answer: 429 with `Retry-After` and a plain-text body. Gitea and Forgejo have no
 * API rate limiter of their own (go-gitea/gitea#9559 is still open), so a 429 comes from a proxy
 * in front of them, and its body is whatever that proxy sends.
 */
export function rateLimit(opts: { retryAfterSeconds: number; text?: string }): Fault {
  return {
    status: 429,
    text: opts.text ?? 'Too Many Requests\n',
    headers: { 'Retry-After': String(opts.retryAfterSeconds) },
  };
}

interface Reply {
  status: number;
  body: unknown;
  headers?: Headers;
}

interface Repo {
  id: number;
  owner: string;
  name: string;
}

const CREDENTIAL_HEADERS = ['authorization', 'cookie'];
const WIP_TITLE = /^\s*(?:wip:|\[wip\])/i;
/** Heads that Gitea routes to `/pulls/{index}/…` GETs rather than to `/pulls/{base}/*`. */
const SHADOWED_HEADS = new Set(['commits', 'files', 'merge', 'reviews']);

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Checks the credentials as Gitea's auth methods do; `undefined` when accepted, else the
 * message of the 401. Without credentials Gitea's `reqToken` says `token is required`; with
 * credentials it does not know, the auth method's error is `user does not exist [uid: 0, name: …]`.
 */
function authError(header: string | undefined, token: string): string | undefined {
  const parts = (header ?? '').trim().split(/\s+/);
  const [scheme = '', value = ''] = parts;
  if (parts.length !== 2) return 'token is required';
  if (/^(token|bearer)$/i.test(scheme)) {
    return sameSecret(value, token) ? undefined : 'user does not exist [uid: 0, name: ]';
  }
  if (!/^basic$/i.test(scheme)) return 'token is required';
  const decoded = Buffer.from(value, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const user = colon < 0 ? decoded : decoded.slice(0, colon);
  const password = colon < 0 ? '' : decoded.slice(colon + 1);
  // An empty password or `x-oauth-basic` means the username is the token.
  const candidate = password === '' || password === 'x-oauth-basic' ? user : password;
  return sameSecret(candidate, token) ? undefined : `user does not exist [uid: 0, name: ${user}]`;
}

function withoutCredentials(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const copy = { ...headers };
  for (const name of CREDENTIAL_HEADERS) delete copy[name];
  return copy;
}

async function readJson(req: IncomingMessage): Promise<{ ok: boolean; value: unknown }> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return { ok: true, value: undefined };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    return { ok: false, value: error instanceof Error ? error.message : text };
  }
}

function send(res: ServerResponse, reply: Reply, text?: string): void {
  const payload = text ?? JSON.stringify(reply.body);
  res.writeHead(reply.status, {
    'Content-Type': text === undefined ? 'application/json;charset=utf-8' : 'text/plain',
    'Content-Length': Buffer.byteLength(payload),
    ...reply.headers,
  });
  res.end(payload);
}

/** Gitea's timestamps: RFC 3339 to the second. */
const now = (): string => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');

/** Starts the stand-in on a random port of 127.0.0.1. */
export async function startGiteaStandIn(opts: GiteaStandInOptions): Promise<GiteaStandIn> {
  const prefix = (opts.pathPrefix ?? '/api/v1').replace(/\/+$/, '');
  const flavor = opts.flavor ?? 'gitea';
  const user = { id: 4242, login: opts.login ?? 'viberator-bot' };
  const pulls: PullRecord[] = [];
  const requests: RecordedRequest[] = [];
  const faults = new FaultQueues<FailableRoute, Fault>();
  const repos = new Map<string, Repo>();
  const nextNumber = new Map<number, number>();
  let nextPullId = 1001;
  let baseUrl = '';
  let apiUrl = '';
  let swaggerUrl = '';

  const register = (owner: string, name: string): Repo => {
    const repo = { id: repos.size + 1, owner, name };
    repos.set(`${owner}/${name}`.toLowerCase(), repo);
    return repo;
  };
  for (const fullName of opts.repos ?? []) {
    const [owner = '', name = ''] = fullName.split('/');
    register(owner, name);
  }
  const knownRepo = (owner: string, name: string): Repo | undefined =>
    repos.get(`${owner}/${name}`.toLowerCase());
  /** The repository, registering it on first use when no list of repositories was given. */
  const findRepo = (owner: string, name: string): Repo | undefined =>
    knownRepo(owner, name) ??
    (opts.repos || owner === '' || name === '' ? undefined : register(owner, name));

  const error = (status: number, message: string): Reply => ({
    status,
    body: { message, url: swaggerUrl },
  });
  /** The flavor's 404; Forgejo lists the error behind it, Gitea does not say. */
  const notFound = (...errors: string[]): Reply =>
    flavor === 'forgejo'
      ? { status: 404, body: { message: "The target couldn't be found.", url: swaggerUrl, errors } }
      : error(404, 'not found');

  const repoRef = (repo: Repo): RepoRef => ({
    id: repo.id,
    name: repo.name,
    full_name: `${repo.owner}/${repo.name}`,
    owner: { login: repo.owner },
    html_url: `${baseUrl}/${repo.owner}/${repo.name}`,
  });
  const branchRef = (repo: Repo, branch: string): BranchRef => ({
    label: branch,
    ref: branch,
    repo_id: repo.id,
    repo: repoRef(repo),
  });

  const takeFault = (route: FailableRoute): Fault | undefined => faults.take(route);

  const pullsOf = (repo: Repo): PullRecord[] => pulls.filter((p) => p.base.repo_id === repo.id);

  const listPulls = (repo: Repo, query: URLSearchParams): Reply => {
    const state = query.get('state') ?? 'open';
    const baseBranch = query.get('base_branch');
    const matches = pullsOf(repo).filter(
      (p) =>
        (state !== 'open' && state !== 'closed' ? true : p.state === state) &&
        (!baseBranch || p.base.ref === baseBranch),
    );
    const ordered = query.get('sort') === 'oldest' ? matches : [...matches].reverse();
    const limit = Math.min(Number(query.get('limit')) > 0 ? Number(query.get('limit')) : 30, 50);
    const page = Math.max(Number(query.get('page') ?? 1) || 1, 1);
    const lastPage = Math.max(Math.ceil(ordered.length / limit), 1);
    const link = (n: number, rel: string): string => {
      const params = new URLSearchParams(query);
      params.set('page', String(n));
      return `<${apiUrl}/repos/${repo.owner}/${repo.name}/pulls?${params}>; rel="${rel}"`;
    };
    const links = [
      ...(page < lastPage ? [link(page + 1, 'next'), link(lastPage, 'last')] : []),
      ...(page > 1 ? [link(1, 'first'), link(page - 1, 'prev')] : []),
    ];
    return {
      status: 200,
      body: ordered.slice((page - 1) * limit, page * limit),
      headers: {
        'X-Total-Count': String(ordered.length),
        ...(links.length > 0 ? { Link: links.join(',') } : {}),
      },
    };
  };

  const createPull = async (repo: Repo, body: unknown): Promise<Reply> => {
    const input = (typeof body === 'object' && body !== null ? body : {}) as Record<
      string,
      unknown
    >;
    const text = (value: unknown): string => (typeof value === 'string' ? value : '');
    const head = text(input.head);
    const base = text(input.base);
    const title = text(input.title);
    // Form binding first: the first `Required` field missing, in the struct's order.
    for (const [field, value] of [
      ['Head', head],
      ['Base', base],
      ['Title', title],
    ]) {
      if (value === '') return error(422, `[${field}]: Required`);
    }
    if (head === base) {
      return error(422, 'Invalid PullRequest: There are no changes between the head and the base');
    }
    const headParts = head.split(':');
    if (headParts.length > 2) {
      return notFound(
        `the head part of {basehead} ${head} must contain zero or one colon (:) but contains ${headParts.length - 1}`,
      );
    }
    const [headOwner, headBranch] =
      headParts.length === 2 ? [headParts[0] ?? '', headParts[1] ?? ''] : [repo.owner, head];
    const sameRepo = headOwner.toLowerCase() === repo.owner.toLowerCase();
    const headRepo = sameRepo ? repo : findRepo(headOwner, repo.name);
    if (!headRepo) {
      return notFound(
        `${headOwner} does not have a fork of ${repo.owner}/${repo.name} and ${repo.owner}/${repo.name} is not a fork of a repository from ${headOwner}`,
      );
    }
    const [baseOk, headOk] = await Promise.all([
      opts.branchExists(repo.owner, repo.name, base),
      opts.branchExists(headRepo.owner, headRepo.name, headBranch),
    ]);
    if (!baseOk) {
      return notFound(
        `could not find '${base}' to be a commit, branch or tag in the base repository ${repo.owner}/${repo.name}`,
      );
    }
    if (!headOk) {
      return notFound(
        `could not find '${headBranch}' to be a commit, branch or tag in the head repository ${headRepo.owner}/${headRepo.name}`,
      );
    }
    const existing = pullsOf(repo).find(
      (p) =>
        p.state === 'open' &&
        !p.merged &&
        p.head.repo_id === headRepo.id &&
        p.head.ref === headBranch &&
        p.base.ref === base,
    );
    if (existing) {
      return error(
        409,
        // Gitea fills `issue_id` with the pull request's number, not its issue's id.
        `pull request already exists for these targets [id: ${existing.id}, issue_id: ${existing.number}, head_repo_id: ${headRepo.id}, base_repo_id: ${repo.id}, head_branch: ${headBranch}, base_branch: ${base}]`,
      );
    }

    const number = nextNumber.get(repo.id) ?? 1;
    nextNumber.set(repo.id, number + 1);
    const createdAt = now();
    const htmlUrl = `${baseUrl}/${repo.owner}/${repo.name}/pulls/${number}`;
    const pull: PullRecord = {
      id: nextPullId++,
      number,
      url: htmlUrl,
      html_url: htmlUrl,
      diff_url: `${htmlUrl}.diff`,
      patch_url: `${htmlUrl}.patch`,
      title,
      body: text(input.body),
      state: 'open',
      draft: WIP_TITLE.test(title),
      is_locked: false,
      merged: false,
      merged_at: null,
      user,
      head: branchRef(headRepo, headBranch),
      base: branchRef(repo, base),
      created_at: createdAt,
      updated_at: createdAt,
      closed_at: null,
    };
    pulls.push(pull);
    return { status: 201, body: pull };
  };

  /** `GET …/pulls/{base}/{head}`: `head` is `branch`, `owner:branch` or `owner/repo:branch`. */
  const getByBaseHead = (repo: Repo, base: string, head: string): Reply => {
    const colon = head.indexOf(':');
    const [owner = '', name = repo.name] = colon < 0 ? [] : head.slice(0, colon).split('/');
    const headRepo = colon < 0 ? repo : knownRepo(owner, name);
    const headBranch = head.slice(colon + 1);
    // No order and no state filter in Gitea's query: the database gives the oldest row.
    const pull = pullsOf(repo).find(
      (p) => p.base.ref === base && p.head.repo_id === headRepo?.id && p.head.ref === headBranch,
    );
    return pull ? { status: 200, body: pull } : notFound();
  };

  /** Which route a path under `/repos/{owner}/{repo}` is, with its decoded parts. */
  const parseRoute = (
    method: string,
    segments: string[],
  ):
    | { route: 'list_pulls' }
    | { route: 'create_pull' }
    | { route: 'get_pull'; index: string }
    | { route: 'get_pull'; base: string; head: string }
    | undefined => {
    if (segments[0] !== 'pulls') return undefined;
    const rest = segments.slice(1);
    if (rest.length === 0) {
      if (method === 'GET') return { route: 'list_pulls' };
      return method === 'POST' ? { route: 'create_pull' } : undefined;
    }
    if (method !== 'GET') return undefined;
    const [first = '', ...headSegments] = rest;
    if (headSegments.length === 0) return { route: 'get_pull', index: first };
    const head = headSegments.join('/');
    // Gitea's `/{index}/files` and friends win over `/{base}/*`: "main/files" is pull "main".
    if (SHADOWED_HEADS.has(head)) return { route: 'get_pull', index: first };
    return { route: 'get_pull', base: first, head };
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const method = req.method ?? 'GET';
    const target = req.url ?? '/';
    const parsed = await readJson(req);
    requests.push({
      method,
      path: target,
      body: parsed.value,
      at: Date.now(),
      headers: withoutCredentials(req.headers),
    });
    const refused = authError(req.headers.authorization, opts.token);
    if (refused) return send(res, error(401, refused));

    const url = new URL(target, 'http://stand-in.invalid');
    if (!url.pathname.startsWith(`${prefix}/`)) return send(res, notFound());
    // Split on the slashes as sent, then decode each part: an escaped `%2F` stays inside its part.
    const segments = url.pathname.slice(prefix.length + 1).split('/');
    if (segments.at(-1) === '') segments.pop();
    let decoded: string[];
    try {
      decoded = segments.map((s) => decodeURIComponent(s));
    } catch {
      return send(res, notFound());
    }
    const [reposWord, owner = '', name = '', ...below] = decoded;
    const parsedRoute = reposWord === 'repos' ? parseRoute(method, below) : undefined;
    if (!parsedRoute) return send(res, notFound());

    const fault = takeFault(parsedRoute.route);
    if (fault === 'hang') return; // read, never answered
    if (fault) {
      const headers = typeof fault.headers === 'function' ? fault.headers() : fault.headers;
      if ('text' in fault)
        return send(res, { status: fault.status, body: null, headers }, fault.text);
      return send(res, { ...error(fault.status, fault.message), headers });
    }

    const repo = findRepo(owner, name);
    if (!repo) return send(res, notFound());
    if (parsedRoute.route === 'list_pulls') return send(res, listPulls(repo, url.searchParams));
    if (parsedRoute.route === 'create_pull') {
      if (!parsed.ok) return send(res, error(422, `[]: ${String(parsed.value)}`));
      return send(res, await createPull(repo, parsed.value));
    }
    if ('base' in parsedRoute)
      return send(res, getByBaseHead(repo, parsedRoute.base, parsedRoute.head));
    const pull = /^\d+$/.test(parsedRoute.index)
      ? pullsOf(repo).find((p) => p.number === Number(parsedRoute.index))
      : undefined;
    return send(res, pull ? { status: 200, body: pull } : notFound());
  };

  const { origin, close } = await listenOnLoopback(handle, (res, text) =>
    send(res, error(500, `stand-in: ${text}`)),
  );
  baseUrl = `${origin}${prefix.replace(/\/api\/v1$/, '')}`;
  apiUrl = `${origin}${prefix}`;
  swaggerUrl = `${baseUrl}/api/swagger`;

  return {
    baseUrl,
    apiUrl,
    pulls,
    requests,
    fault: (route, fault, times = 1) => faults.add(route, fault, times),
    clearFaults: () => faults.clear(),
    close,
  };
}
