import { afterEach, describe, expect, it } from 'vitest';
import {
  type GiteaStandIn,
  type GiteaStandInOptions,
  rateLimit,
  startGiteaStandIn,
} from './gitea-stand-in.js';

const TOKEN = 'gitea-standin-token';

const running: GiteaStandIn[] = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((gt) => gt.close()));
});

async function standIn(opts: Partial<GiteaStandInOptions> = {}): Promise<GiteaStandIn> {
  const gt = await startGiteaStandIn({ token: TOKEN, branchExists: async () => true, ...opts });
  running.push(gt);
  return gt;
}

interface Answer {
  status: number;
  headers: Headers;
  /** The parsed JSON body, or the text when the answer is not JSON. */
  body: any;
}

/** One real HTTP call, authenticated with `Authorization: token …` unless `auth` says otherwise. */
async function call(
  gt: GiteaStandIn,
  method: string,
  path: string,
  body?: unknown,
  auth: Record<string, string> = { Authorization: `token ${TOKEN}` },
): Promise<Answer> {
  const res = await fetch(`${gt.apiUrl}${path}`, {
    method,
    headers: { ...auth, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  const json = (res.headers.get('content-type') ?? '').includes('application/json');
  return { status: res.status, headers: res.headers, body: json ? JSON.parse(text) : text };
}

const pr = (head: string, base = 'main', title = `Fix ${head}`) => ({
  head,
  base,
  title,
  body: 'Done by the agent.',
});

const basic = (user: string, password: string) => ({
  Authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
});

describe('Gitea stand-in over HTTP', () => {
  it('creates a pull request with Gitea-shaped fields', async () => {
    const gt = await standIn({ repos: ['acme/app', 'acme/web'] });
    expect(gt.apiUrl).toBe(`${gt.baseUrl}/api/v1`);
    const created = await call(gt, 'POST', '/repos/acme/app/pulls', pr('feature'));
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      number: 1,
      state: 'open',
      title: 'Fix feature',
      body: 'Done by the agent.',
      draft: false,
      merged: false,
      html_url: `${gt.baseUrl}/acme/app/pulls/1`,
      // Gitea's `url` is the web page too.
      url: `${gt.baseUrl}/acme/app/pulls/1`,
      diff_url: `${gt.baseUrl}/acme/app/pulls/1.diff`,
      user: { login: 'viberator-bot' },
      // Gitea's label is the bare branch name.
      head: { ref: 'feature', label: 'feature', repo_id: 1, repo: { full_name: 'acme/app' } },
      base: { ref: 'main', label: 'main', repo_id: 1 },
      closed_at: null,
    });
    expect(created.body.id).not.toBe(created.body.number);
    expect(created.body.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(gt.pulls).toEqual([created.body]);
    const web = await call(gt, 'POST', '/repos/ACME/Web/pulls', pr('feature'));
    expect(web.body).toMatchObject({ number: 1, base: { repo_id: 2 } });
    expect(web.body.html_url).toBe(`${gt.baseUrl}/acme/web/pulls/1`);
    expect(gt.requests[0]).toMatchObject({
      method: 'POST',
      path: '/api/v1/repos/acme/app/pulls',
      body: { head: 'feature', base: 'main' },
    });
  });

  it('lists open pull requests by default, newest first, with X-Total-Count and Link', async () => {
    const gt = await standIn();
    for (const head of ['a', 'b', 'c']) await call(gt, 'POST', '/repos/acme/app/pulls', pr(head));
    await call(gt, 'POST', '/repos/acme/app/pulls', pr('d', 'release'));
    const [first] = gt.pulls;
    if (first) first.state = 'closed';

    const open = await call(gt, 'GET', '/repos/acme/app/pulls?state=open');
    expect(open.body.map((p: { number: number }) => p.number)).toEqual([4, 3, 2]);
    expect(open.headers.get('x-total-count')).toBe('3');
    const byDefault = await call(gt, 'GET', '/repos/acme/app/pulls');
    expect(byDefault.body).toHaveLength(3);
    const all = await call(gt, 'GET', '/repos/acme/app/pulls?state=all&sort=oldest');
    expect(all.body.map((p: { number: number }) => p.number)).toEqual([1, 2, 3, 4]);
    const closed = await call(gt, 'GET', '/repos/acme/app/pulls?state=closed');
    expect(closed.body.map((p: { number: number }) => p.number)).toEqual([1]);
    const release = await call(gt, 'GET', '/repos/acme/app/pulls?base_branch=release');
    expect(release.body.map((p: { head: { ref: string } }) => p.head.ref)).toEqual(['d']);

    const paged = await call(gt, 'GET', '/repos/acme/app/pulls?state=all&limit=3');
    expect(paged.body).toHaveLength(3);
    expect(paged.headers.get('link')).toBe(
      `<${gt.apiUrl}/repos/acme/app/pulls?state=all&limit=3&page=2>; rel="next",` +
        `<${gt.apiUrl}/repos/acme/app/pulls?state=all&limit=3&page=2>; rel="last"`,
    );
    expect((await call(gt, 'GET', '/repos/acme/web/pulls')).body).toEqual([]);
  });

  it('finds a pull request by base and a head with slashes, escaped or not', async () => {
    const gt = await standIn();
    await call(gt, 'POST', '/repos/acme/app/pulls', pr('viberator/ENG-1'));
    await call(gt, 'POST', '/repos/acme/app/pulls', pr('feature', 'release/1'));

    const plain = await call(gt, 'GET', '/repos/acme/app/pulls/main/viberator/ENG-1');
    expect(plain.status).toBe(200);
    expect(plain.body).toMatchObject({ number: 1, head: { ref: 'viberator/ENG-1' } });
    const escaped = await call(gt, 'GET', '/repos/acme/app/pulls/main/viberator%2FENG-1');
    expect(escaped.body.number).toBe(1);
    const owned = await call(gt, 'GET', '/repos/acme/app/pulls/main/acme:viberator/ENG-1');
    expect(owned.body.number).toBe(1);
    const full = await call(gt, 'GET', '/repos/acme/app/pulls/main/acme/app:viberator/ENG-1');
    expect(full.body.number).toBe(1);
    // The base is one segment: a base with a slash must be escaped.
    const release = await call(gt, 'GET', '/repos/acme/app/pulls/release%2F1/feature');
    expect(release.body.number).toBe(2);
    expect((await call(gt, 'GET', '/repos/acme/app/pulls/release/1/feature')).status).toBe(404);

    const missing = await call(gt, 'GET', '/repos/acme/app/pulls/main/viberator/ENG-2');
    expect(missing).toEqual(
      expect.objectContaining({
        status: 404,
        body: { message: 'not found', url: `${gt.baseUrl}/api/swagger` },
      }),
    );

    // Open or closed alike; with several, the oldest, as Gitea's unordered query gives it.
    const [first] = gt.pulls;
    if (first) first.state = 'closed';
    await call(gt, 'POST', '/repos/acme/app/pulls', pr('viberator/ENG-1'));
    const again = await call(gt, 'GET', '/repos/acme/app/pulls/main/viberator/ENG-1');
    expect(again.body).toMatchObject({ number: 1, state: 'closed' });

    const byNumber = await call(gt, 'GET', '/repos/acme/app/pulls/3');
    expect(byNumber.body).toMatchObject({ number: 3, state: 'open' });
    expect((await call(gt, 'GET', '/repos/acme/app/pulls/9')).status).toBe(404);
  });

  it("a head named like a pull's sub-route is routed as Gitea routes it", async () => {
    const gt = await standIn();
    await call(gt, 'POST', '/repos/acme/app/pulls', pr('files'));
    // Gitea's `/pulls/{index}/files` wins over `/pulls/{base}/*`.
    expect((await call(gt, 'GET', '/repos/acme/app/pulls/main/files')).status).toBe(404);
    expect((await call(gt, 'GET', '/repos/acme/app/pulls/main/acme:files')).status).toBe(200);
  });

  it("refuses a second open pull request for the same head and base with Gitea's 409", async () => {
    const gt = await standIn();
    const first = await call(gt, 'POST', '/repos/acme/app/pulls', pr('viberator/ENG-1'));
    const again = await call(
      gt,
      'POST',
      '/repos/acme/app/pulls',
      pr('viberator/ENG-1', 'main', 'T'),
    );
    expect(again.status).toBe(409);
    expect(again.body).toEqual({
      message:
        `pull request already exists for these targets [id: ${first.body.id}, issue_id: 1, ` +
        'head_repo_id: 1, base_repo_id: 1, head_branch: viberator/ENG-1, base_branch: main]',
      url: `${gt.baseUrl}/api/swagger`,
    });
    // `owner:branch` naming the same repository is the same head.
    const owned = await call(gt, 'POST', '/repos/acme/app/pulls', pr('acme:viberator/ENG-1'));
    expect(owned.status).toBe(409);
    expect(
      (await call(gt, 'POST', '/repos/acme/app/pulls', pr('viberator/ENG-1', 'dev'))).status,
    ).toBe(201);
    const [open] = gt.pulls;
    if (open) open.state = 'closed';
    const reopened = await call(gt, 'POST', '/repos/acme/app/pulls', pr('viberator/ENG-1'));
    expect(reopened.body.number).toBe(3);
  });

  it('validates the form and the branches as Gitea does', async () => {
    const asked: string[] = [];
    const gt = await standIn({
      branchExists: async (owner, repo, branch) => {
        asked.push(`${owner}/${repo}@${branch}`);
        return branch === 'main';
      },
    });
    const post = (body: unknown) => call(gt, 'POST', '/repos/acme/app/pulls', body);
    const url = `${gt.baseUrl}/api/swagger`;
    expect(await post({ base: 'main', title: 'T' })).toMatchObject({
      status: 422,
      body: { message: '[Head]: Required', url },
    });
    expect((await post({})).body.message).toBe('[Head]: Required');
    expect((await post({ head: 'f', base: 'main' })).body.message).toBe('[Title]: Required');
    expect(await post(pr('main'))).toMatchObject({
      status: 422,
      body: { message: 'Invalid PullRequest: There are no changes between the head and the base' },
    });
    expect(await post(pr('never-pushed'))).toMatchObject({
      status: 404,
      body: { message: 'not found', url },
    });
    expect(asked).toContain('acme/app@never-pushed');
    expect((await post(pr('a:b:c'))).status).toBe(404);
    expect(gt.pulls).toEqual([]);
  });

  it("answers Forgejo's 404 body when asked to", async () => {
    const gt = await standIn({
      flavor: 'forgejo',
      repos: ['acme/app'],
      branchExists: async (_owner, _repo, branch) => branch === 'main',
    });
    const url = `${gt.baseUrl}/api/swagger`;
    expect(await call(gt, 'POST', '/repos/acme/app/pulls', pr('never-pushed'))).toMatchObject({
      status: 404,
      body: {
        message: "The target couldn't be found.",
        url,
        errors: [
          "could not find 'never-pushed' to be a commit, branch or tag in the head repository acme/app",
        ],
      },
    });
    expect((await call(gt, 'POST', '/repos/acme/app/pulls', pr('f', 'nope'))).body.errors).toEqual([
      "could not find 'nope' to be a commit, branch or tag in the base repository acme/app",
    ]);
    expect(await call(gt, 'GET', '/repos/acme/other/pulls')).toMatchObject({
      status: 404,
      body: { message: "The target couldn't be found.", url, errors: [] },
    });
  });

  it('accepts the token as token, Bearer or Basic, and refuses anything else with 401', async () => {
    const gt = await standIn();
    const path = '/repos/acme/app/pulls';
    const url = `${gt.baseUrl}/api/swagger`;
    expect(await call(gt, 'GET', path, undefined, {})).toMatchObject({
      status: 401,
      body: { message: 'token is required', url },
    });
    expect(await call(gt, 'POST', path, pr('f'), { Authorization: 'token wrong' })).toMatchObject({
      status: 401,
      body: { message: 'user does not exist [uid: 0, name: ]', url },
    });
    expect((await call(gt, 'GET', path, undefined, basic('alice', 'wrong'))).body.message).toBe(
      'user does not exist [uid: 0, name: alice]',
    );
    expect(gt.pulls).toEqual([]);

    const accepted: Array<Record<string, string>> = [
      { Authorization: `token ${TOKEN}` },
      { Authorization: `Bearer ${TOKEN}` },
      { Authorization: `bearer ${TOKEN}` },
      basic('anyone', TOKEN),
      basic(TOKEN, ''),
      basic(TOKEN, 'x-oauth-basic'),
    ];
    for (const auth of accepted)
      expect((await call(gt, 'GET', path, undefined, auth)).status).toBe(200);
    for (const request of gt.requests) {
      expect(request.headers.authorization).toBeUndefined();
      expect(JSON.stringify(request)).not.toContain(TOKEN);
    }
  });

  it('scripts status faults: N times then normal, always until cleared, per route', async () => {
    const gt = await standIn();
    await call(gt, 'POST', '/repos/acme/app/pulls', pr('feature'));
    const list = () => call(gt, 'GET', '/repos/acme/app/pulls');
    gt.fault('list_pulls', { status: 500, message: '' }, 2);
    gt.fault('list_pulls', { status: 503, message: 'Service Unavailable' });
    expect(await list()).toMatchObject({
      status: 500,
      body: { message: '', url: `${gt.baseUrl}/api/swagger` },
    });
    expect((await list()).status).toBe(500);
    expect((await list()).body).toMatchObject({ message: 'Service Unavailable' });
    expect((await list()).status).toBe(200);

    gt.fault('get_pull', { status: 502, message: 'Bad Gateway' }, 'always');
    expect((await call(gt, 'GET', '/repos/acme/app/pulls/main/feature')).status).toBe(502);
    expect((await call(gt, 'GET', '/repos/acme/app/pulls/1')).status).toBe(502);
    // Per route: listing and creating still work; a bad token is still refused first.
    expect((await list()).status).toBe(200);
    expect((await call(gt, 'GET', '/repos/acme/app/pulls/1', undefined, {})).status).toBe(401);
    gt.clearFaults();
    expect((await call(gt, 'GET', '/repos/acme/app/pulls/main/feature')).status).toBe(200);

    gt.fault('create_pull', { status: 423, message: 'repo is archived' });
    expect((await call(gt, 'POST', '/repos/acme/app/pulls', pr('other'))).status).toBe(423);
    expect((await call(gt, 'POST', '/repos/acme/app/pulls', pr('other'))).status).toBe(201);
    const stamps = gt.requests.map((r) => r.at);
    expect(stamps.every((at, i) => at >= (stamps[i - 1] ?? 0))).toBe(true);
  });

  it('answers a rate limit with 429 and Retry-After', async () => {
    const gt = await standIn();
    gt.fault('create_pull', rateLimit({ retryAfterSeconds: 12 }));
    const limited = await call(gt, 'POST', '/repos/acme/app/pulls', pr('f'));
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('12');
    expect(limited.body).toBe('Too Many Requests\n');
    expect(gt.pulls).toEqual([]);
    expect((await call(gt, 'POST', '/repos/acme/app/pulls', pr('f'))).status).toBe(201);
  });

  it('hangs: reads the request, never answers, and still closes at once', async () => {
    const gt = await startGiteaStandIn({ token: TOKEN, branchExists: async () => true });
    gt.fault('create_pull', 'hang');
    const began = Date.now();
    const attempt = fetch(`${gt.apiUrl}/repos/acme/app/pulls`, {
      method: 'POST',
      headers: { Authorization: `token ${TOKEN}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(pr('f')),
      signal: AbortSignal.timeout(500),
    });
    await expect(attempt).rejects.toMatchObject({ name: 'TimeoutError' });
    expect(Date.now() - began).toBeGreaterThanOrEqual(450);
    expect(gt.requests.at(-1)).toMatchObject({ method: 'POST', body: { head: 'f' } });
    expect(gt.pulls).toEqual([]);

    // A hanging request the client still waits on does not hold close() either.
    gt.fault('get_pull', 'hang');
    const pending = fetch(`${gt.apiUrl}/repos/acme/app/pulls/main/f`, {
      headers: { Authorization: `token ${TOKEN}` },
    }).catch((error: unknown) => error);
    while (gt.requests.length < 2) await new Promise((resolve) => setTimeout(resolve, 10));
    const closing = Date.now();
    await gt.close();
    expect(Date.now() - closing).toBeLessThan(1000);
    expect(await pending).toBeInstanceOf(Error);
    await gt.close(); // idempotent
  });

  it('serves a sub-path install and 404s outside the API', async () => {
    const gt = await standIn({ pathPrefix: '/git/api/v1', repos: ['acme/app'] });
    expect(gt.baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/git$/);
    expect(gt.apiUrl).toBe(`${gt.baseUrl}/api/v1`);
    const created = await call(gt, 'POST', '/repos/acme/app/pulls', pr('f'));
    expect(created.body.html_url).toBe(`${gt.baseUrl}/acme/app/pulls/1`);
    expect(created.body.head.repo.html_url).toBe(`${gt.baseUrl}/acme/app`);

    const origin = new URL(gt.apiUrl).origin;
    const outside = await fetch(`${origin}/api/v1/repos/acme/app/pulls`, {
      headers: { Authorization: `token ${TOKEN}` },
    });
    expect(outside.status).toBe(404);
    await outside.arrayBuffer();
    expect((await call(gt, 'GET', '/repos/acme/other/pulls')).status).toBe(404);
    expect((await call(gt, 'GET', '/repos/acme/app/issues')).body).toEqual({
      message: 'not found',
      url: `${gt.baseUrl}/api/swagger`,
    });
  });
});
