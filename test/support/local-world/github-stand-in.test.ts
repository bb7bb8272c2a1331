import { Octokit } from '@octokit/rest';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type GitHubStandIn,
  primaryRateLimit,
  secondaryRateLimit,
  startGitHubStandIn,
} from './github-stand-in.js';

const TOKEN = 'ghs_standInToken';

const running: GitHubStandIn[] = [];

async function standIn(
  opts: Partial<Parameters<typeof startGitHubStandIn>[0]> = {},
): Promise<{ gh: GitHubStandIn; octokit: Octokit }> {
  const gh = await startGitHubStandIn({ token: TOKEN, ...opts });
  running.push(gh);
  // retry/throttle plugins are not part of @octokit/rest, so every failure surfaces at once.
  return { gh, octokit: new Octokit({ auth: TOKEN, baseUrl: gh.apiUrl, log: quiet }) };
}

/** Octokit logs every failed request; these tests fail requests on purpose. */
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

/** What Octokit throws for a non-2xx answer (`RequestError`, named `HttpError`). */
interface HttpError extends Error {
  status: number;
  response?: { data: unknown };
}

afterEach(async () => {
  await Promise.all(running.splice(0).map((gh) => gh.close()));
});

/** Runs `fn` and returns the Octokit error it throws. */
async function httpError(fn: () => Promise<unknown>): Promise<HttpError> {
  try {
    await fn();
  } catch (error) {
    expect((error as Error).name).toBe('HttpError');
    return error as HttpError;
  }
  throw new Error('expected the call to fail');
}

describe('GitHub stand-in with Octokit', () => {
  it('reports the default branch of a repository', async () => {
    const { octokit } = await standIn();
    const { data } = await octokit.rest.repos.get({ owner: 'acme', repo: 'app' });
    expect(data.default_branch).toBe('main');
    expect(data.full_name).toBe('acme/app');
  });

  it('creates a pull request with GitHub-shaped fields and lists it by head', async () => {
    const { gh, octokit } = await standIn();
    const created = await octokit.rest.pulls.create({
      owner: 'acme',
      repo: 'app',
      title: 'Fix ticket 1',
      head: 'viberator/ticket-1',
      base: 'main',
      body: 'Done by the agent.',
    });
    expect(created.status).toBe(201);
    expect(created.data).toMatchObject({
      number: 1,
      state: 'open',
      title: 'Fix ticket 1',
      body: 'Done by the agent.',
      html_url: `${gh.baseUrl}/acme/app/pull/1`,
      url: `${gh.apiUrl}/repos/acme/app/pulls/1`,
      head: { ref: 'viberator/ticket-1', label: 'acme:viberator/ticket-1' },
      base: { ref: 'main' },
      user: { login: 'viberator-bot' },
    });
    expect(gh.pulls).toHaveLength(1);

    await octokit.rest.pulls.create({
      owner: 'acme',
      repo: 'app',
      title: 'Other',
      head: 'acme:other',
      base: 'main',
    });
    const listed = await octokit.rest.pulls.list({
      owner: 'acme',
      repo: 'app',
      state: 'open',
      head: 'acme:viberator/ticket-1',
      base: 'main',
    });
    expect(listed.data.map((p) => p.number)).toEqual([1]);
    // Like GitHub, a bare branch name is read as a user name and matches nothing.
    const bare = await octokit.rest.pulls.list({ owner: 'acme', repo: 'app', head: 'other' });
    expect(bare.data).toEqual([]);
    const all = await octokit.rest.pulls.list({ owner: 'acme', repo: 'app' });
    expect(all.data.map((p) => p.number)).toEqual([2, 1]);
    const otherRepo = await octokit.rest.pulls.list({ owner: 'acme', repo: 'web' });
    expect(otherRepo.data).toEqual([]);

    const lastCreate = gh.requests.filter((r) => r.method === 'POST').at(-1);
    expect(lastCreate).toMatchObject({
      path: '/repos/acme/app/pulls',
      body: { head: 'acme:other' },
    });
  });

  it("refuses a second open PR for the same head with GitHub's 422 wording", async () => {
    const { octokit } = await standIn();
    const pr = { owner: 'acme', repo: 'app', title: 'T', head: 'feature', base: 'main' };
    await octokit.rest.pulls.create(pr);
    const error = await httpError(() => octokit.rest.pulls.create(pr));
    expect(error.status).toBe(422);
    const data = error.response?.data as { message: string; errors: Array<{ message: string }> };
    expect(data.message).toBe('Validation Failed');
    expect(data.errors[0]?.message).toBe('A pull request already exists for acme:feature.');
    expect(error.message).toContain('A pull request already exists for acme:feature.');
  });

  it('updates a pull request with PATCH, and a closed PR no longer blocks a new one', async () => {
    const { octokit } = await standIn();
    const pr = { owner: 'acme', repo: 'app', title: 'T', head: 'feature', base: 'main' };
    const { data } = await octokit.rest.pulls.create(pr);
    const updated = await octokit.rest.pulls.update({
      owner: 'acme',
      repo: 'app',
      pull_number: data.number,
      title: 'Better title',
      body: 'New body',
    });
    expect(updated.data).toMatchObject({ title: 'Better title', body: 'New body', state: 'open' });
    await octokit.rest.pulls.update({
      owner: 'acme',
      repo: 'app',
      pull_number: data.number,
      state: 'closed',
    });
    const open = await octokit.rest.pulls.list({
      owner: 'acme',
      repo: 'app',
      head: 'acme:feature',
    });
    expect(open.data).toEqual([]);
    const again = await octokit.rest.pulls.create(pr);
    expect(again.data.number).toBe(2);

    const missing = await httpError(() =>
      octokit.rest.pulls.update({ owner: 'acme', repo: 'app', pull_number: 99, title: 'x' }),
    );
    expect(missing.status).toBe(404);
  });

  it('validates missing fields and, given branchExists, a missing head branch', async () => {
    const { octokit } = await standIn({
      branchExists: async (_owner, _repo, branch) => branch === 'main',
    });
    const missingHead = await httpError(() =>
      octokit.request('POST /repos/{owner}/{repo}/pulls', {
        owner: 'acme',
        repo: 'app',
        title: 'T',
        head: '', // an empty head is "missing" to GitHub as well
        base: 'main',
      }),
    );
    expect(missingHead.status).toBe(422);
    expect(missingHead.response?.data).toMatchObject({
      message: 'Validation Failed',
      errors: [{ resource: 'PullRequest', field: 'head', code: 'missing_field' }],
      documentation_url: expect.stringContaining('create-a-pull-request'),
    });

    const noBranch = await httpError(() =>
      octokit.rest.pulls.create({
        owner: 'acme',
        repo: 'app',
        title: 'T',
        head: 'never-pushed',
        base: 'main',
      }),
    );
    expect(noBranch.status).toBe(422);
    expect(noBranch.response?.data).toMatchObject({
      message: 'Validation Failed',
      errors: [{ resource: 'PullRequest', field: 'head', code: 'invalid' }],
    });
  });

  it('injects one failure per failNext, surfacing as HttpError with status', async () => {
    const { gh, octokit } = await standIn();
    const pr = { owner: 'acme', repo: 'app', title: 'T', head: 'feature', base: 'main' };

    gh.failNext('create_pull', 500, 'Server Error');
    const serverError = await httpError(() => octokit.rest.pulls.create(pr));
    expect(serverError.status).toBe(500);
    expect(serverError.message).toContain('Server Error');

    gh.failNext('create_pull', 422, 'Validation Failed', [
      { resource: 'PullRequest', code: 'custom', message: 'No commits between main and feature' },
    ]);
    const validation = await httpError(() => octokit.rest.pulls.create(pr));
    expect(validation.status).toBe(422);
    expect(validation.message).toContain('No commits between main and feature');

    gh.failNext('list_pulls', 503, 'Service Unavailable');
    const listError = await httpError(() =>
      octokit.rest.pulls.list({ owner: 'acme', repo: 'app' }),
    );
    expect(listError.status).toBe(503);

    // The injected failures are used up: the same calls now succeed.
    expect((await octokit.rest.pulls.create(pr)).status).toBe(201);
    expect((await octokit.rest.pulls.list({ owner: 'acme', repo: 'app' })).data).toHaveLength(1);
  });

  it('scripts faults: N times then normal, always until cleared, in the order queued', async () => {
    const { octokit, gh } = await standIn();
    const list = () => octokit.rest.pulls.list({ owner: 'acme', repo: 'app' });
    gh.fault('list_pulls', { status: 502, message: 'Server Error' }, 2);
    gh.fault('list_pulls', { status: 503, message: 'Service Unavailable' });
    expect((await httpError(list)).status).toBe(502);
    expect((await httpError(list)).status).toBe(502);
    const unavailable = await httpError(list);
    expect(unavailable.status).toBe(503);
    expect(unavailable.response?.data).toMatchObject({ message: 'Service Unavailable' });
    expect((await list()).status).toBe(200);

    gh.fault('list_pulls', { status: 500, message: 'Server Error' }, 'always');
    for (let i = 0; i < 5; i += 1) expect((await httpError(list)).status).toBe(500);
    gh.clearFaults();
    expect((await list()).status).toBe(200);
    // Faults are per route: the create route was never touched.
    const pr = { owner: 'acme', repo: 'app', title: 'T', head: 'feature', base: 'main' };
    expect((await octokit.rest.pulls.create(pr)).status).toBe(201);
    // Each request is stamped with when it arrived.
    const stamps = gh.requests.map((r) => r.at);
    expect(stamps.every((at, i) => at >= (stamps[i - 1] ?? 0))).toBe(true);
  });

  it("answers a primary rate limit with GitHub's headers; reset is counted from the answer", async () => {
    const { octokit, gh } = await standIn();
    gh.fault('create_pull', primaryRateLimit({ resetInSeconds: 120, status: 429 }));
    const before = Math.floor(Date.now() / 1000);
    const error = await httpError(() =>
      octokit.rest.pulls.create({
        owner: 'acme',
        repo: 'app',
        title: 'T',
        head: 'f',
        base: 'main',
      }),
    );
    const headers = (error as HttpError & { response: { headers: Record<string, string> } })
      .response.headers;
    expect(error.status).toBe(429);
    expect(error.response?.data).toMatchObject({
      message: 'API rate limit exceeded for user ID 4242.',
      documentation_url: expect.stringContaining('rate-limits'),
    });
    expect(headers['x-ratelimit-remaining']).toBe('0');
    expect(headers['x-ratelimit-limit']).toBe('5000');
    const reset = Number(headers['x-ratelimit-reset']);
    expect(reset).toBeGreaterThanOrEqual(before + 120);
    expect(reset).toBeLessThanOrEqual(before + 122);
  });

  it('answers a secondary rate limit with its message and retry-after', async () => {
    const { octokit, gh } = await standIn();
    gh.fault('list_pulls', secondaryRateLimit({ retryAfterSeconds: 7 }));
    const error = await httpError(() => octokit.rest.pulls.list({ owner: 'acme', repo: 'app' }));
    expect(error.status).toBe(403);
    expect(error.message).toMatch(/You have exceeded a secondary rate limit/);
    const headers = (error as HttpError & { response: { headers: Record<string, string> } })
      .response.headers;
    expect(headers['retry-after']).toBe('7');
  });

  it('hangs: reads the request, never answers, and still closes at once', async () => {
    const gh = await startGitHubStandIn({ token: TOKEN });
    gh.fault('create_pull', 'hang');
    const began = Date.now();
    const attempt = fetch(`${gh.apiUrl}/repos/acme/app/pulls`, {
      method: 'POST',
      headers: { Authorization: `token ${TOKEN}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ title: 'T', head: 'f', base: 'main' }),
      signal: AbortSignal.timeout(500),
    });
    await expect(attempt).rejects.toMatchObject({ name: 'TimeoutError' });
    expect(Date.now() - began).toBeGreaterThanOrEqual(450);
    expect(gh.requests.at(-1)).toMatchObject({ method: 'POST', body: { head: 'f' } });
    expect(gh.pulls).toEqual([]);
    // A hanging request that the client has not given up on does not hold close() either.
    gh.fault('list_pulls', 'hang');
    const pending = fetch(`${gh.apiUrl}/repos/acme/app/pulls`, {
      headers: { Authorization: `token ${TOKEN}` },
    }).catch((error: unknown) => error);
    while (gh.requests.length < 2) await new Promise((resolve) => setTimeout(resolve, 10));
    const closing = Date.now();
    await gh.close();
    expect(Date.now() - closing).toBeLessThan(1000);
    expect(await pending).toBeInstanceOf(Error);
  });

  it('answers a bad token with 401 Bad credentials, and unknown routes with 404', async () => {
    const { gh, octokit } = await standIn();
    const bad = new Octokit({ auth: 'wrong', baseUrl: gh.apiUrl, log: quiet });
    const error = await httpError(() => bad.rest.repos.get({ owner: 'acme', repo: 'app' }));
    expect(error.status).toBe(401);
    expect(error.response?.data).toMatchObject({ message: 'Bad credentials' });

    const anonymous = new Octokit({ baseUrl: gh.apiUrl, log: quiet });
    expect(
      (await httpError(() => anonymous.rest.repos.get({ owner: 'a', repo: 'b' }))).status,
    ).toBe(401);

    const bearer = await fetch(`${gh.apiUrl}/repos/acme/app`, {
      headers: { Authorization: `Bearer ${TOKEN}` },
    });
    expect(bearer.status).toBe(200);
    await bearer.arrayBuffer();

    const unknown = await httpError(() => octokit.request('GET /user/repos'));
    expect(unknown.status).toBe(404);
    expect(unknown.response?.data).toMatchObject({ message: 'Not Found' });
  });

  it('serves the GitHub Enterprise /api/v3 prefix', async () => {
    const { gh, octokit } = await standIn({ pathPrefix: '/api/v3' });
    expect(gh.apiUrl).toBe(`${gh.baseUrl}/api/v3`);
    const { data } = await octokit.rest.pulls.create({
      owner: 'acme',
      repo: 'app',
      title: 'T',
      head: 'feature',
      base: 'main',
    });
    expect(data.html_url).toBe(`${gh.baseUrl}/acme/app/pull/1`);
    expect(data.url).toBe(`${gh.baseUrl}/api/v3/repos/acme/app/pulls/1`);
    expect(gh.requests.at(-1)?.path).toBe('/api/v3/repos/acme/app/pulls');

    // Without the prefix the API is not there, as on a GHES host.
    const unprefixed = await fetch(`${gh.baseUrl}/repos/acme/app`, {
      headers: { Authorization: `token ${TOKEN}` },
    });
    expect(unprefixed.status).toBe(404);
    await unprefixed.arrayBuffer();
  });
});
