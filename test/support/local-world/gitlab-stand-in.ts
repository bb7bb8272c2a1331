/**
 * A local stand-in for the slice of GitLab's REST API (v4) that opening a merge request needs.
 *
 * It answers with GitLab's JSON shapes and error bodies (`{"message": …}` from the API,
 * `{"error": …}` from parameter validation, plain `Retry later` from the rate limiter), so a
 * GitLab client runs against it unchanged with its base URL pointed at {@link GitLabStandIn.apiUrl}.
 *
 * Routes, under `pathPrefix` (default `/api/v4`):
 * - `GET  /projects/:id/merge_requests` — `state`, `source_branch`, `target_branch`, `sort`,
 *   `page`, `per_page`; GitLab's default `state` is `all` and its default order newest first.
 * - `POST /projects/:id/merge_requests` — JSON or form body (query parameters are merged in, as
 *   Grape does): `title`, `source_branch`, `target_branch`, `description`,
 *   `remove_source_branch`.
 * - `GET  /projects/:id/merge_requests/:iid`.
 *
 * `:id` is a numeric project id or the URL-encoded full path (`acme%2Fapp`, `group%2Fsub%2Fapp`).
 * Everything else under the prefix is GitLab's catch-all 404 `{"error":"404 Not Found"}`.
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { FaultQueues, listenOnLoopback } from './stand-in-kit.js';

/** Options for {@link startGitLabStandIn}. */
export interface GitLabStandInOptions {
  /** The only token accepted, as `PRIVATE-TOKEN: X` or `Authorization: Bearer X`. */
  token: string;
  /**
   * Whether `branch` exists in the project at `projectPath` (its full path as registered, e.g.
   * `group/sub/app`), e.g. backed by the demo git server's bare repositories. Consulted for the
   * source and the target branch of every merge request created.
   */
  branchExists: (projectPath: string, branch: string) => Promise<boolean>;
  /** Root of the API on the server. Default `/api/v4`; `/gitlab/api/v4` for a relative URL root. */
  pathPrefix?: string;
  /**
   * Full paths of the projects that exist (`acme/app`, `group/sub/app`), in id order: the first
   * gets id 101, the next 102, and so on. Lookups ignore case, as GitLab's do. When omitted,
   * every path with a namespace exists and gets the next id the first time it is used; a
   * numeric id then finds only projects already used by path.
   */
  projects?: string[];
  /** Username of the token's user; becomes each merge request's `author`. Default `viberator-bot`. */
  username?: string;
}

/** A merge request as GitLab's API returns it (the fields a client opening one reads). */
export interface MergeRequestRecord {
  /** Unique across the instance. Not the number in the UI or in URLs: that is `iid`. */
  id: number;
  /** Number within the project, from 1: `!iid`. */
  iid: number;
  /** The target project. */
  project_id: number;
  source_project_id: number;
  target_project_id: number;
  title: string;
  description: string | null;
  state: 'opened' | 'closed' | 'merged' | 'locked';
  /** True when the title starts with `Draft:`, `[Draft]` or `(Draft)`, any case. */
  draft: boolean;
  source_branch: string;
  target_branch: string;
  author: { id: number; username: string; name: string; state: 'active' };
  /** The create call's `remove_source_branch`, `false` when it was not given. */
  force_remove_source_branch: boolean;
  references: { short: string; relative: string; full: string };
  /** `<web root>/<project full path>/-/merge_requests/<iid>`. */
  web_url: string;
  created_at: string;
  updated_at: string;
  merged_at: string | null;
  closed_at: string | null;
}

/** A request as the stand-in received it. */
export interface RecordedRequest {
  method: string;
  /** The request target as sent: path and query, percent-encoding untouched. */
  path: string;
  /** The parsed JSON or form body; `undefined` when empty, the raw text when it does not parse. */
  body: unknown;
  /** When it arrived (`Date.now()`). */
  at: number;
  /** Its headers, without `authorization`, `private-token`, `job-token` and `cookie`. */
  headers: IncomingHttpHeaders;
}

/** Routes {@link GitLabStandIn.fault} can break. */
export type FailableRoute = 'create_mr' | 'list_mrs';

/** The `message` of a GitLab error body: a string, a list, or field → messages. */
export type GitLabMessage = string | string[] | Record<string, string[]>;

type Headers = Record<string, string>;

/**
 * What a scripted fault does to a request on its route:
 * - `{ status, message }`: answer `status` with GitLab's JSON error body `{"message": message}`;
 * - `{ status, text }`: answer `status` with a plain-text body (what Rack::Attack or a proxy
 *   in front of GitLab sends);
 * - `'hang'`: read the request and never answer (the connection stays open until the client
 *   gives up or the stand-in closes).
 *
 * `headers` are added to the answer; a function is called when the answer is sent, for headers
 * that depend on the time.
 */
export type Fault =
  | { status: number; message: GitLabMessage; headers?: Headers | (() => Headers) }
  | { status: number; text: string; headers?: Headers | (() => Headers) }
  | 'hang';

/** A running stand-in returned by {@link startGitLabStandIn}. */
export interface GitLabStandIn {
  /** `http://127.0.0.1:PORT` plus the prefix without `/api/v4`: the root `web_url`s point into. */
  baseUrl: string;
  /** Root of the REST API: `http://127.0.0.1:PORT/api/v4` by default. */
  apiUrl: string;
  /**
   * Every merge request created, across projects, in creation order. The records are the
   * objects the API serves: a test may change one (say `state = 'closed'`) to stage a case.
   */
  mergeRequests: MergeRequestRecord[];
  /** Every request received, in order. */
  requests: RecordedRequest[];
  /** The numeric id of the project at `fullPath` (any case), if it exists or was used. */
  projectId(fullPath: string): number | undefined;
  /**
   * Queues `fault` for the next `times` requests on `route` (default 1), after any faults
   * already queued there; `'always'` keeps it until {@link GitLabStandIn.clearFaults}.
   * Requests with a bad token are still answered 401 first.
   */
  fault(route: FailableRoute, fault: Fault, times?: number | 'always'): void;
  /** Drops every queued fault: the routes answer normally again. */
  clearFaults(): void;
  /** Stops listening and ends every connection, hanging ones included. Idempotent. */
  close(): Promise<void>;
}

/**
 * GitLab's answer when a request is throttled (Rack::Attack): 429 with the plain-text body
 * `Retry later` and the `RateLimit-*` headers it documents. `RateLimit-Reset` (epoch seconds)
 * and `RateLimit-ResetTime` (HTTP date) point `retryAfterSeconds` after the answer is sent.
 */
export function rateLimit(opts: {
  retryAfterSeconds: number;
  /** `RateLimit-Name`, the throttle that matched. Default `throttle_authenticated_api`. */
  name?: string;
  /** `RateLimit-Limit`, requests per minute. Default 2000 (GitLab.com's authenticated API). */
  limit?: number;
}): Fault {
  const limit = opts.limit ?? 2000;
  return {
    status: 429,
    text: 'Retry later\n',
    headers: () => {
      const reset = Math.floor(Date.now() / 1000) + opts.retryAfterSeconds;
      return {
        'RateLimit-Name': opts.name ?? 'throttle_authenticated_api',
        'RateLimit-Limit': String(limit),
        'RateLimit-Observed': String(limit + 1),
        'RateLimit-Remaining': '0',
        'RateLimit-Reset': String(reset),
        'RateLimit-ResetTime': new Date(reset * 1000).toUTCString(),
        'Retry-After': String(opts.retryAfterSeconds),
      };
    },
  };
}

interface Reply {
  status: number;
  body: unknown;
  headers?: Headers;
}

interface Project {
  id: number;
  path: string;
}

const CREDENTIAL_HEADERS = ['authorization', 'private-token', 'job-token', 'cookie'];
const MR_STATES = ['opened', 'closed', 'locked', 'merged', 'all'];
const DRAFT_TITLE = /^\s*(?:\[draft\]|\(draft\)|draft:)/i;

const message = (status: number, text: GitLabMessage): Reply => ({
  status,
  body: { message: text },
});
const unauthorized = (): Reply => message(401, '401 Unauthorized');
const projectNotFound = (): Reply => message(404, '404 Project Not Found');
/** Grape's answer to a parameter that is missing or has the wrong type. */
const paramError = (text: string): Reply => ({ status: 400, body: { error: text } });

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * GitLab takes the first credential it finds: `PRIVATE-TOKEN` before an OAuth `Bearer` header,
 * so a wrong private token is refused even next to a good bearer token.
 */
function authorized(headers: IncomingHttpHeaders, token: string): boolean {
  const privateToken = headers['private-token'];
  if (typeof privateToken === 'string') return sameSecret(privateToken.trim(), token);
  const bearer = /^bearer\s+(\S+)\s*$/i.exec(headers.authorization ?? '');
  return bearer?.[1] !== undefined && sameSecret(bearer[1], token);
}

function withoutCredentials(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const copy = { ...headers };
  for (const name of CREDENTIAL_HEADERS) delete copy[name];
  return copy;
}

/** Reads the body: JSON, or form fields when the request says it is form-encoded. */
async function readBody(req: IncomingMessage): Promise<{ ok: boolean; value: unknown }> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return { ok: true, value: undefined };
  if ((req.headers['content-type'] ?? '').includes('application/x-www-form-urlencoded')) {
    return { ok: true, value: Object.fromEntries(new URLSearchParams(text)) };
  }
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false, value: text };
  }
}

let requestCounter = 0;

function send(res: ServerResponse, reply: Reply, text?: string): void {
  const payload = text ?? JSON.stringify(reply.body);
  requestCounter += 1;
  res.writeHead(reply.status, {
    'Content-Type': text === undefined ? 'application/json' : 'text/plain',
    'Content-Length': Buffer.byteLength(payload),
    'X-Request-Id': `STANDIN${requestCounter.toString(36).toUpperCase().padStart(6, '0')}`,
    ...reply.headers,
  });
  res.end(payload);
}

/** GitLab's timestamps: ISO 8601 in UTC with milliseconds. */
const now = (): string => new Date().toISOString();

/**
 * A parameter as Grape coerces it to `String`: scalars become text, `null` stays blank, and
 * anything else is a type error (`undefined`).
 */
function asParam(value: unknown): string | undefined {
  if (value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

/**
 * Whether `name` is a branch name git accepts (the rules of `git check-ref-format --branch`,
 * which GitLab applies to a merge request's branches).
 */
function validBranchName(name: string): boolean {
  return (
    name !== '' &&
    name !== '@' &&
    !name.startsWith('-') &&
    !name.startsWith('/') &&
    !name.endsWith('/') &&
    !name.endsWith('.') &&
    !name.includes('..') &&
    !name.includes('//') &&
    !name.includes('@{') &&
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are the point
    !/[\x00-\x20\x7f~^:?*[\\]/.test(name) &&
    name.split('/').every((part) => !part.startsWith('.') && !part.endsWith('.lock'))
  );
}

function asBoolean(value: unknown): boolean {
  return value === true || value === 'true' || value === '1' || value === 1;
}

/** Starts the stand-in on a random port of 127.0.0.1. */
export async function startGitLabStandIn(opts: GitLabStandInOptions): Promise<GitLabStandIn> {
  const prefix = (opts.pathPrefix ?? '/api/v4').replace(/\/+$/, '');
  const username = opts.username ?? 'viberator-bot';
  const author = { id: 4242, username, name: username, state: 'active' as const };
  const mergeRequests: MergeRequestRecord[] = [];
  const requests: RecordedRequest[] = [];
  const faults = new FaultQueues<FailableRoute, Fault>();
  const byPath = new Map<string, Project>();
  const byId = new Map<number, Project>();
  const nextIid = new Map<number, number>();
  let nextMrId = 5001;
  let baseUrl = '';
  let apiUrl = '';

  const register = (path: string): Project => {
    const project = { id: 101 + byId.size, path };
    byPath.set(path.toLowerCase(), project);
    byId.set(project.id, project);
    return project;
  };
  for (const path of opts.projects ?? []) register(path);

  /** The project an `:id` segment names, already percent-decoded. */
  const findProject = (id: string): Project | undefined => {
    if (/^\d+$/.test(id)) return byId.get(Number(id));
    const known = byPath.get(id.toLowerCase());
    if (known || opts.projects) return known;
    // Without a project list every namespaced path exists, as a repository on the git server.
    return /^[^/]+(\/[^/]+)+$/.test(id) ? register(id) : undefined;
  };

  const takeFault = (route: FailableRoute): Fault | undefined => faults.take(route);

  const mrsOf = (project: Project): MergeRequestRecord[] =>
    mergeRequests.filter((mr) => mr.project_id === project.id);

  const listMrs = (project: Project, query: URLSearchParams): Reply => {
    const state = query.get('state') ?? 'all';
    if (!MR_STATES.includes(state)) return paramError('state does not have a valid value');
    const sort = query.get('sort') ?? 'desc';
    if (sort !== 'asc' && sort !== 'desc') return paramError('sort does not have a valid value');
    const source = query.get('source_branch');
    const target = query.get('target_branch');
    const matches = mrsOf(project).filter(
      (mr) =>
        (state === 'all' || mr.state === state) &&
        (source === null || mr.source_branch === source) &&
        (target === null || mr.target_branch === target),
    );
    const ordered = sort === 'asc' ? matches : [...matches].reverse();
    const perPage = Math.min(Math.max(Number(query.get('per_page') ?? 20) || 20, 1), 100);
    const page = Math.max(Number(query.get('page') ?? 1) || 1, 1);
    const totalPages = Math.max(Math.ceil(ordered.length / perPage), 1);
    return {
      status: 200,
      body: ordered.slice((page - 1) * perPage, page * perPage),
      headers: {
        'X-Page': String(page),
        'X-Per-Page': String(perPage),
        'X-Total': String(ordered.length),
        'X-Total-Pages': String(totalPages),
        'X-Next-Page': page < totalPages ? String(page + 1) : '',
        'X-Prev-Page': page > 1 ? String(page - 1) : '',
      },
    };
  };

  const createMr = async (project: Project, params: Record<string, unknown>): Promise<Reply> => {
    // Grape first: required parameters, in the order the endpoint declares them.
    const required = ['title', 'source_branch', 'target_branch'] as const;
    const missing = required.filter((name) => params[name] === undefined);
    if (missing.length > 0) return paramError(missing.map((n) => `${n} is missing`).join(', '));
    const wrongType = required.find((name) => asParam(params[name]) === undefined);
    if (wrongType) return paramError(`${wrongType} is invalid`);
    const title = asParam(params.title) ?? '';
    const source = asParam(params.source_branch) ?? '';
    const target = asParam(params.target_branch) ?? '';

    // Then the model's validations, collected per field as Rails does. Two blank branches are
    // "the same branch" to GitLab too, so that check comes first.
    if (source === target) {
      return message(422, ["You can't use same project/branch for source and target"]);
    }
    const invalid: Record<string, string[]> = {};
    const add = (field: string, text: string) => {
      invalid[field] = [...(invalid[field] ?? []), text];
    };
    if (title.trim() === '') add('title', "can't be blank");
    else if (title.length > 255) add('title', 'is too long (maximum is 255 characters)');
    if (source.trim() === '') add('source_branch', "can't be blank");
    if (target.trim() === '') add('target_branch', "can't be blank");
    const sourceValid = validBranchName(source);
    const targetValid = validBranchName(target);
    if (!sourceValid) add('source_branch', 'is invalid');
    if (!targetValid) add('target_branch', 'is invalid');
    const [sourceOk, targetOk] = await Promise.all([
      !sourceValid || opts.branchExists(project.path, source),
      !targetValid || opts.branchExists(project.path, target),
    ]);
    if (!sourceOk) add('source_branch', 'does not exist');
    if (!targetOk) add('target_branch', 'does not exist');
    // An open duplicate is a 409, answered before any 400 for the fields.
    const conflict = mrsOf(project).find(
      (mr) => mr.state === 'opened' && mr.source_branch === source && mr.target_branch === target,
    );
    if (conflict) {
      return message(409, [
        `Another open merge request already exists for this source branch: !${conflict.iid}`,
      ]);
    }
    if (Object.keys(invalid).length > 0) return message(400, invalid);

    const iid = nextIid.get(project.id) ?? 1;
    nextIid.set(project.id, iid + 1);
    const createdAt = now();
    const mr: MergeRequestRecord = {
      id: nextMrId++,
      iid,
      project_id: project.id,
      source_project_id: project.id,
      target_project_id: project.id,
      title,
      description: typeof params.description === 'string' ? params.description : null,
      state: 'opened',
      draft: DRAFT_TITLE.test(title),
      source_branch: source,
      target_branch: target,
      author,
      force_remove_source_branch: asBoolean(params.remove_source_branch),
      references: { short: `!${iid}`, relative: `!${iid}`, full: `${project.path}!${iid}` },
      web_url: `${baseUrl}/${project.path}/-/merge_requests/${iid}`,
      created_at: createdAt,
      updated_at: createdAt,
      merged_at: null,
      closed_at: null,
    };
    mergeRequests.push(mr);
    return { status: 201, body: mr };
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const method = req.method ?? 'GET';
    const target = req.url ?? '/';
    const parsed = await readBody(req);
    requests.push({
      method,
      path: target,
      body: parsed.value,
      at: Date.now(),
      headers: withoutCredentials(req.headers),
    });
    if (!authorized(req.headers, opts.token)) return send(res, unauthorized());

    // The WHATWG parser keeps `%2F` as is, so the project segment still holds its slashes.
    const url = new URL(target, 'http://stand-in.invalid');
    const notFound: Reply = { status: 404, body: { error: '404 Not Found' } };
    if (!url.pathname.startsWith(`${prefix}/`)) return send(res, notFound);
    const match = /^\/projects\/([^/]+)\/merge_requests(?:\/([^/]+))?\/?$/.exec(
      url.pathname.slice(prefix.length),
    );
    const iidText = match?.[2];
    const route =
      iidText === undefined
        ? method === 'GET'
          ? 'list_mrs'
          : method === 'POST'
            ? 'create_mr'
            : undefined
        : method === 'GET'
          ? 'get_mr'
          : undefined;
    if (!match?.[1] || route === undefined) return send(res, notFound);

    const fault = route === 'get_mr' ? undefined : takeFault(route);
    if (fault === 'hang') return; // read, never answered
    if (fault) {
      const headers = typeof fault.headers === 'function' ? fault.headers() : fault.headers;
      if ('text' in fault)
        return send(res, { status: fault.status, body: null, headers }, fault.text);
      return send(res, { ...message(fault.status, fault.message), headers });
    }

    let id: string;
    try {
      id = decodeURIComponent(match[1]);
    } catch {
      return send(res, projectNotFound());
    }
    const project = findProject(id);
    if (!project) return send(res, projectNotFound());

    if (route === 'list_mrs') return send(res, listMrs(project, url.searchParams));
    if (route === 'create_mr') {
      if (!parsed.ok) return send(res, paramError('The request body is not valid JSON'));
      const body = parsed.value;
      const fields =
        typeof body === 'object' && body !== null && !Array.isArray(body)
          ? (body as Record<string, unknown>)
          : {};
      // Grape merges query parameters with the body's; the body wins.
      const params = { ...Object.fromEntries(url.searchParams), ...fields };
      return send(res, await createMr(project, params));
    }
    if (!/^\d+$/.test(iidText ?? '')) return send(res, paramError('merge_request_iid is invalid'));
    const mr = mrsOf(project).find((m) => m.iid === Number(iidText));
    return send(res, mr ? { status: 200, body: mr } : message(404, '404 Merge Request Not Found'));
  };

  const { origin, close } = await listenOnLoopback(handle, (res, text) =>
    send(res, message(500, `500 Internal Server Error (stand-in: ${text})`)),
  );
  baseUrl = `${origin}${prefix.replace(/\/api\/v4$/, '')}`;
  apiUrl = `${origin}${prefix}`;

  return {
    baseUrl,
    apiUrl,
    mergeRequests,
    requests,
    projectId: (fullPath) => byPath.get(fullPath.toLowerCase())?.id,
    fault: (route, fault, times = 1) => faults.add(route, fault, times),
    clearFaults: () => faults.clear(),
    close,
  };
}
