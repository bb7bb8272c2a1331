import { afterEach, describe, expect, it } from 'vitest';
import {
  type GitLabStandIn,
  type GitLabStandInOptions,
  rateLimit,
  startGitLabStandIn,
} from './gitlab-stand-in.js';

const TOKEN = 'glpat-standInToken';

const running: GitLabStandIn[] = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((gl) => gl.close()));
});

async function standIn(opts: Partial<GitLabStandInOptions> = {}): Promise<GitLabStandIn> {
  const gl = await startGitLabStandIn({ token: TOKEN, branchExists: async () => true, ...opts });
  running.push(gl);
  return gl;
}

interface Answer {
  status: number;
  headers: Headers;
  /** The parsed JSON body, or the text when the answer is not JSON. */
  body: any;
}

/** One real HTTP call; `auth` is sent as `PRIVATE-TOKEN` unless it is a full header object. */
async function call(
  gl: GitLabStandIn,
  method: string,
  path: string,
  body?: unknown,
  auth: Record<string, string> = { 'PRIVATE-TOKEN': TOKEN },
): Promise<Answer> {
  const res = await fetch(`${gl.apiUrl}${path}`, {
    method,
    headers: { ...auth, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  const json = (res.headers.get('content-type') ?? '').includes('application/json');
  return { status: res.status, headers: res.headers, body: json ? JSON.parse(text) : text };
}

const mr = (source: string, target = 'main', title = `Fix ${source}`) => ({
  source_branch: source,
  target_branch: target,
  title,
  description: 'Done by the agent.',
});

describe('GitLab stand-in over HTTP', () => {
  it('creates a merge request with GitLab-shaped fields, addressed by encoded path or by id', async () => {
    const gl = await standIn({ projects: ['acme/app', 'acme/web'] });
    expect(gl.apiUrl).toBe(`${gl.baseUrl}/api/v4`);
    const created = await call(gl, 'POST', '/projects/acme%2Fapp/merge_requests', {
      ...mr('viberator/ENG-1'),
      remove_source_branch: true,
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      iid: 1,
      project_id: 101,
      source_project_id: 101,
      target_project_id: 101,
      title: 'Fix viberator/ENG-1',
      description: 'Done by the agent.',
      state: 'opened',
      draft: false,
      source_branch: 'viberator/ENG-1',
      target_branch: 'main',
      force_remove_source_branch: true,
      author: { username: 'viberator-bot' },
      references: { short: '!1', full: 'acme/app!1' },
      web_url: `${gl.baseUrl}/acme/app/-/merge_requests/1`,
      merged_at: null,
      closed_at: null,
    });
    expect(created.body.id).not.toBe(created.body.iid);
    expect(created.body.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(gl.mergeRequests).toEqual([created.body]);

    // The numeric id reaches the same project; iids count per project, ids across them.
    expect(gl.projectId('ACME/App')).toBe(101);
    const second = await call(gl, 'POST', '/projects/101/merge_requests', mr('other'));
    expect(second.body).toMatchObject({ iid: 2, project_id: 101 });
    const elsewhere = await call(gl, 'POST', '/projects/acme%2Fweb/merge_requests', mr('other'));
    expect(elsewhere.body).toMatchObject({ iid: 1, project_id: 102 });
    expect(new Set(gl.mergeRequests.map((m) => m.id)).size).toBe(3);

    const single = await call(gl, 'GET', '/projects/acme%2Fapp/merge_requests/2');
    expect(single.body).toMatchObject({ iid: 2, source_branch: 'other' });
    const none = await call(gl, 'GET', '/projects/acme%2Fapp/merge_requests/9');
    expect(none).toMatchObject({ status: 404, body: { message: '404 Merge Request Not Found' } });

    expect(gl.requests[0]).toMatchObject({
      method: 'POST',
      path: '/api/v4/projects/acme%2Fapp/merge_requests',
      body: { source_branch: 'viberator/ENG-1', remove_source_branch: true },
    });
  });

  it('lists merge requests filtered by state and branches, newest first, with page headers', async () => {
    const gl = await standIn();
    await call(gl, 'POST', '/projects/acme%2Fapp/merge_requests', mr('a'));
    await call(gl, 'POST', '/projects/acme%2Fapp/merge_requests', mr('b'));
    await call(gl, 'POST', '/projects/acme%2Fapp/merge_requests', mr('a', 'release'));
    const [first] = gl.mergeRequests;
    if (first) first.state = 'closed';

    const open = await call(
      gl,
      'GET',
      '/projects/acme%2Fapp/merge_requests?state=opened&source_branch=a&target_branch=release',
    );
    expect(open.status).toBe(200);
    expect(open.body.map((m: { iid: number }) => m.iid)).toEqual([3]);

    // GitLab's default state is `all`, not `opened`.
    const all = await call(gl, 'GET', '/projects/acme%2Fapp/merge_requests?source_branch=a');
    expect(all.body.map((m: { iid: number }) => m.iid)).toEqual([3, 1]);
    const closed = await call(gl, 'GET', '/projects/acme%2Fapp/merge_requests?state=closed');
    expect(closed.body.map((m: { iid: number }) => m.iid)).toEqual([1]);
    const oldest = await call(gl, 'GET', '/projects/acme%2Fapp/merge_requests?sort=asc');
    expect(oldest.body.map((m: { iid: number }) => m.iid)).toEqual([1, 2, 3]);

    const paged = await call(gl, 'GET', '/projects/acme%2Fapp/merge_requests?per_page=2&page=1');
    expect(paged.body).toHaveLength(2);
    expect(paged.headers.get('x-total')).toBe('3');
    expect(paged.headers.get('x-total-pages')).toBe('2');
    expect(paged.headers.get('x-next-page')).toBe('2');

    const other = await call(gl, 'GET', '/projects/acme%2Fweb/merge_requests');
    expect(other.body).toEqual([]);
    const badState = await call(gl, 'GET', '/projects/acme%2Fapp/merge_requests?state=open');
    expect(badState).toMatchObject({
      status: 400,
      body: { error: 'state does not have a valid value' },
    });
  });

  it('addresses a subgroup project by its encoded full path', async () => {
    const asked: string[] = [];
    const gl = await standIn({
      projects: ['group/sub/app'],
      branchExists: async (project, branch) => {
        asked.push(`${project}@${branch}`);
        return true;
      },
    });
    const created = await call(gl, 'POST', '/projects/group%2Fsub%2Fapp/merge_requests', mr('f'));
    expect(created.status).toBe(201);
    expect(created.body.web_url).toBe(`${gl.baseUrl}/group/sub/app/-/merge_requests/1`);
    expect(created.body.references.full).toBe('group/sub/app!1');
    expect(asked.sort()).toEqual(['group/sub/app@f', 'group/sub/app@main']);
    // Lower-case encoding and other casing reach it too.
    const listed = await call(gl, 'GET', '/projects/Group%2fSub%2fApp/merge_requests');
    expect(listed.body).toHaveLength(1);
    // An unencoded slash is another route, and a half path is another project.
    expect((await call(gl, 'GET', '/projects/group/sub/app/merge_requests')).body).toEqual({
      error: '404 Not Found',
    });
    expect(await call(gl, 'GET', '/projects/group%2Fsub/merge_requests')).toMatchObject({
      status: 404,
      body: { message: '404 Project Not Found' },
    });
    expect((await call(gl, 'GET', '/projects/999/merge_requests')).status).toBe(404);
  });

  it("refuses a second open merge request for the same branches with GitLab's 409", async () => {
    const gl = await standIn();
    const path = '/projects/acme%2Fapp/merge_requests';
    await call(gl, 'POST', path, mr('feature'));
    const again = await call(gl, 'POST', path, mr('feature', 'main', 'Another title'));
    expect(again.status).toBe(409);
    expect(again.body).toEqual({
      message: ['Another open merge request already exists for this source branch: !1'],
    });
    // Another target is another merge request; a closed one no longer blocks.
    expect((await call(gl, 'POST', path, mr('feature', 'release'))).status).toBe(201);
    const [first] = gl.mergeRequests;
    if (first) first.state = 'closed';
    expect((await call(gl, 'POST', path, mr('feature'))).body.iid).toBe(3);
  });

  it('validates parameters and branches as GitLab does', async () => {
    const gl = await standIn({ branchExists: async (_project, branch) => branch === 'main' });
    const path = '/projects/acme%2Fapp/merge_requests';

    const noTitle = await call(gl, 'POST', path, { source_branch: 'f', target_branch: 'main' });
    expect(noTitle).toMatchObject({ status: 400, body: { error: 'title is missing' } });
    const nothing = await call(gl, 'POST', path, {});
    expect(nothing.body).toEqual({
      error: 'title is missing, source_branch is missing, target_branch is missing',
    });

    const blank = await call(gl, 'POST', path, {
      title: ' ',
      source_branch: '',
      target_branch: 'main',
    });
    expect(blank).toMatchObject({
      status: 400,
      body: {
        message: { title: ["can't be blank"], source_branch: ["can't be blank", 'is invalid'] },
      },
    });

    const same = await call(gl, 'POST', path, mr('main'));
    expect(same).toMatchObject({
      status: 422,
      body: { message: ["You can't use same project/branch for source and target"] },
    });

    const unpushed = await call(gl, 'POST', path, mr('never-pushed'));
    expect(unpushed).toMatchObject({
      status: 400,
      body: { message: { source_branch: ['does not exist'] } },
    });
    const badTarget = await call(gl, 'POST', path, mr('main', 'nowhere'));
    expect(badTarget.body).toEqual({ message: { target_branch: ['does not exist'] } });
    const badName = await call(gl, 'POST', path, mr('has space'));
    expect(badName.body).toEqual({ message: { source_branch: ['is invalid'] } });
    expect(gl.mergeRequests).toEqual([]);
  });

  it('takes a form body and query parameters, as Grape merges them', async () => {
    const gl = await standIn();
    const res = await fetch(`${gl.apiUrl}/projects/acme%2Fapp/merge_requests?target_branch=main`, {
      method: 'POST',
      headers: { 'PRIVATE-TOKEN': TOKEN, 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ source_branch: 'f', title: 'Draft: From a form' }).toString(),
    });
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({
      source_branch: 'f',
      target_branch: 'main',
      title: 'Draft: From a form',
      draft: true,
      description: null,
      force_remove_source_branch: false,
    });
  });

  it('answers 401 without the token, accepts PRIVATE-TOKEN or Bearer, and records no secret', async () => {
    const gl = await standIn();
    const path = '/projects/acme%2Fapp/merge_requests';
    const refusals: Array<Record<string, string>> = [
      {},
      { 'PRIVATE-TOKEN': 'wrong' },
      { Authorization: 'Bearer wrong' },
    ];
    for (const auth of refusals) {
      const refused = await call(gl, 'GET', path, undefined, auth);
      expect(refused).toMatchObject({ status: 401, body: { message: '401 Unauthorized' } });
    }
    // A POST is refused before anything is created.
    const post = await call(gl, 'POST', path, mr('f'), { Authorization: `token ${TOKEN}` });
    expect(post.status).toBe(401);
    expect(gl.mergeRequests).toEqual([]);
    // GitLab reads PRIVATE-TOKEN first: a wrong one is refused even next to a good bearer.
    const mixed = { 'PRIVATE-TOKEN': 'wrong', Authorization: `Bearer ${TOKEN}` };
    expect((await call(gl, 'GET', path, undefined, mixed)).status).toBe(401);

    expect(
      (await call(gl, 'GET', path, undefined, { Authorization: `Bearer ${TOKEN}` })).status,
    ).toBe(200);
    expect((await call(gl, 'GET', path)).status).toBe(200);
    for (const request of gl.requests) {
      expect(request.headers.authorization).toBeUndefined();
      expect(request.headers['private-token']).toBeUndefined();
      expect(JSON.stringify(request)).not.toContain(TOKEN);
    }
    expect(gl.requests.at(-1)?.headers.host).toMatch(/^127\.0\.0\.1:\d+$/);
  });

  it('scripts status faults: N times then normal, always until cleared, per route', async () => {
    const gl = await standIn();
    const path = '/projects/acme%2Fapp/merge_requests';
    gl.fault('list_mrs', { status: 502, message: '502 Bad Gateway' }, 2);
    gl.fault('list_mrs', { status: 503, message: '503 Service Unavailable' });
    expect(await call(gl, 'GET', path)).toMatchObject({
      status: 502,
      body: { message: '502 Bad Gateway' },
    });
    expect((await call(gl, 'GET', path)).status).toBe(502);
    expect((await call(gl, 'GET', path)).status).toBe(503);
    expect((await call(gl, 'GET', path)).status).toBe(200);

    gl.fault(
      'create_mr',
      { status: 422, message: { base: ['Target project has disabled merge requests'] } },
      'always',
    );
    for (let i = 0; i < 3; i += 1) {
      const failed = await call(gl, 'POST', path, mr('f'));
      expect(failed).toMatchObject({
        status: 422,
        body: { message: { base: ['Target project has disabled merge requests'] } },
      });
    }
    // Faults are per route, and a bad token is still answered 401 first.
    expect((await call(gl, 'GET', path)).status).toBe(200);
    expect((await call(gl, 'POST', path, mr('f'), {})).status).toBe(401);
    gl.clearFaults();
    expect((await call(gl, 'POST', path, mr('f'))).status).toBe(201);
    const stamps = gl.requests.map((r) => r.at);
    expect(stamps.every((at, i) => at >= (stamps[i - 1] ?? 0))).toBe(true);
  });

  it("answers a rate limit as Rack::Attack does: 429, 'Retry later', RateLimit headers", async () => {
    const gl = await standIn();
    gl.fault('create_mr', rateLimit({ retryAfterSeconds: 30 }));
    const before = Math.floor(Date.now() / 1000);
    const limited = await call(gl, 'POST', '/projects/acme%2Fapp/merge_requests', mr('f'));
    expect(limited.status).toBe(429);
    expect(limited.headers.get('content-type')).toBe('text/plain');
    expect(limited.body).toBe('Retry later\n');
    expect(limited.headers.get('retry-after')).toBe('30');
    expect(limited.headers.get('ratelimit-remaining')).toBe('0');
    expect(limited.headers.get('ratelimit-name')).toBe('throttle_authenticated_api');
    const reset = Number(limited.headers.get('ratelimit-reset'));
    expect(reset).toBeGreaterThanOrEqual(before + 30);
    expect(reset).toBeLessThanOrEqual(before + 32);
    expect(Date.parse(limited.headers.get('ratelimit-resettime') ?? '')).toBe(reset * 1000);
    expect(gl.mergeRequests).toEqual([]);
    // Used up: the same call now succeeds.
    expect((await call(gl, 'POST', '/projects/acme%2Fapp/merge_requests', mr('f'))).status).toBe(
      201,
    );
  });

  it('hangs: reads the request, never answers, and still closes at once', async () => {
    const gl = await startGitLabStandIn({ token: TOKEN, branchExists: async () => true });
    gl.fault('create_mr', 'hang');
    const began = Date.now();
    const attempt = fetch(`${gl.apiUrl}/projects/acme%2Fapp/merge_requests`, {
      method: 'POST',
      headers: { 'PRIVATE-TOKEN': TOKEN, 'Content-Type': 'application/json' },
      body: JSON.stringify(mr('f')),
      signal: AbortSignal.timeout(500),
    });
    await expect(attempt).rejects.toMatchObject({ name: 'TimeoutError' });
    expect(Date.now() - began).toBeGreaterThanOrEqual(450);
    expect(gl.requests.at(-1)).toMatchObject({ method: 'POST', body: { source_branch: 'f' } });
    expect(gl.mergeRequests).toEqual([]);

    // A hanging request the client still waits on does not hold close() either.
    gl.fault('list_mrs', 'hang');
    const pending = fetch(`${gl.apiUrl}/projects/acme%2Fapp/merge_requests`, {
      headers: { 'PRIVATE-TOKEN': TOKEN },
    }).catch((error: unknown) => error);
    while (gl.requests.length < 2) await new Promise((resolve) => setTimeout(resolve, 10));
    const closing = Date.now();
    await gl.close();
    expect(Date.now() - closing).toBeLessThan(1000);
    expect(await pending).toBeInstanceOf(Error);
    await gl.close(); // idempotent
  });

  it('serves a relative URL root, and 404s outside the API', async () => {
    const gl = await standIn({ pathPrefix: '/gitlab/api/v4' });
    expect(gl.apiUrl).toBe(`${gl.baseUrl}/api/v4`);
    expect(gl.baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/gitlab$/);
    const created = await call(gl, 'POST', '/projects/acme%2Fapp/merge_requests', mr('f'));
    expect(created.body.web_url).toBe(`${gl.baseUrl}/acme/app/-/merge_requests/1`);

    const origin = new URL(gl.apiUrl).origin;
    const outside = await fetch(`${origin}/api/v4/projects/acme%2Fapp/merge_requests`, {
      headers: { 'PRIVATE-TOKEN': TOKEN },
    });
    expect(outside.status).toBe(404);
    expect(await outside.json()).toEqual({ error: '404 Not Found' });
    const unknown = await call(gl, 'GET', '/projects/acme%2Fapp/issues');
    expect(unknown).toMatchObject({ status: 404, body: { error: '404 Not Found' } });
  });
});
