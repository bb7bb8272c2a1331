import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GitHttpServer, startGitHttpServer } from './git-http-server.js';
import {
  createBareRepo,
  isolatedGitEnv,
  listBranches,
  protectBranch,
  readBranch,
} from './seed-repo.js';

const TOKEN = 'ghs_demoToken123';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs the git client asynchronously: the server lives in this process, so a synchronous
 * child would block the event loop that must answer it.
 */
function gitClient(args: string[], cwd: string, env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', args, { cwd, env: isolatedGitEnv({ HOME: cwd, ...env }) });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** The header a worker passes with `-c http.extraHeader=…` so the token never enters the URL. */
function authHeader(token: string): string {
  return `Authorization: Basic ${Buffer.from(`x-access-token:${token}`).toString('base64')}`;
}

describe('git HTTP server', () => {
  let root: string;
  let work: string;
  let server: GitHttpServer;
  let appRepo: string;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'git-http-root-'));
    work = await mkdtemp(join(tmpdir(), 'git-http-work-'));
    appRepo = await createBareRepo(root, 'acme/app', {
      files: { 'README.md': '# app\n', 'src/index.ts': 'export const x = 1;\n' },
    });
    server = await startGitHttpServer({ projectRoot: root, token: TOKEN });
  });

  afterAll(async () => {
    await server?.close();
    await rm(root, { recursive: true, force: true });
    await rm(work, { recursive: true, force: true });
  });

  it('serves a clone to the right token sent as an extra header', async () => {
    const dest = join(work, 'clone-ok');
    const run = await gitClient(
      ['-c', `http.extraHeader=${authHeader(TOKEN)}`, 'clone', server.repoUrl('acme/app'), dest],
      work,
    );
    expect(run.code, run.stderr).toBe(0);
    expect(await readFile(join(dest, 'src/index.ts'), 'utf8')).toBe('export const x = 1;\n');
    const log = await gitClient(['log', '--format=%an <%ae>|%s'], dest);
    expect(log.stdout.trim()).toBe('Seed <seed@example.invalid>|Initial commit');
    expect(server.repoUrl('acme/app')).toBe(`${server.baseUrl}/acme/app.git`);
    expect(server.baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('refuses a wrong token with 401, and git exits 128', async () => {
    const before = server.requests.length;
    const run = await gitClient(
      [
        '-c',
        `http.extraHeader=${authHeader('wrong-token')}`,
        'clone',
        server.repoUrl('acme/app'),
        join(work, 'clone-wrong'),
      ],
      work,
    );
    expect(run.code).toBe(128);
    // A rejected extraHeader credential makes git ask for a username, and prompts are off:
    // it never prints "Authentication failed" here (that needs credentials in the URL).
    expect(run.stderr).toContain('terminal prompts disabled');
    const seen = server.requests.slice(before);
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((r) => !r.authorized && r.status === 401)).toBe(true);
  });

  it('refuses a wrong token in the URL with "Authentication failed"', async () => {
    const url = new URL(server.repoUrl('acme/app'));
    url.username = 'x-access-token';
    url.password = 'wrong-token';
    const run = await gitClient(['clone', url.toString(), join(work, 'clone-url-wrong')], work);
    expect(run.code).toBe(128);
    expect(run.stderr).toContain('Authentication failed');
    expect(run.stderr).toContain('remote: Unauthorized');
  });

  it('accepts the token in the URL, as a worker without extraHeader would send it', async () => {
    const url = new URL(server.repoUrl('acme/app'));
    url.username = 'x-access-token';
    url.password = TOKEN;
    const run = await gitClient(['clone', url.toString(), join(work, 'clone-url-ok')], work);
    expect(run.code, run.stderr).toBe(0);
  });

  it('answers like GitHub at the HTTP level: 401 + Basic challenge, Bearer and lower-case basic', async () => {
    const refs = `${server.repoUrl('acme/app')}/info/refs?service=git-upload-pack`;
    const none = await fetch(refs);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Basic realm="GitHub"');
    expect(await none.text()).toBe('Unauthorized');

    const bearer = await fetch(refs, { headers: { Authorization: `Bearer ${TOKEN}` } });
    expect(bearer.status).toBe(200);
    expect(bearer.headers.get('content-type')).toBe('application/x-git-upload-pack-advertisement');
    await bearer.arrayBuffer();

    const basic = Buffer.from(`anyone:${TOKEN}`).toString('base64');
    const lower = await fetch(refs, { headers: { Authorization: `basic ${basic}` } });
    expect(lower.status).toBe(200);
    await lower.arrayBuffer();

    const missing = await fetch(
      `${server.repoUrl('acme/nope')}/info/refs?service=git-upload-pack`,
      {
        headers: { Authorization: `Bearer ${TOKEN}` },
      },
    );
    expect(missing.status).toBe(404); // from http-backend's own CGI Status header
    await missing.arrayBuffer();
  });

  it('accepts a push of a new branch and the branch lands in the bare repo', async () => {
    const dest = join(work, 'push-branch');
    const header = `http.extraHeader=${authHeader(TOKEN)}`;
    expect(
      (await gitClient(['-c', header, 'clone', server.repoUrl('acme/app'), dest], work)).code,
    ).toBe(0);
    await writeFile(join(dest, 'CHANGE.md'), 'changed by the agent\n');
    expect((await gitClient(['checkout', '-b', 'viberator/ticket-1'], dest)).code).toBe(0);
    expect((await gitClient(['add', '-A'], dest)).code).toBe(0);
    expect((await gitClient(['commit', '-m', 'Fix ticket 1\n\nBody line'], dest)).code).toBe(0);
    const push = await gitClient(
      ['-c', header, 'push', 'origin', 'HEAD:refs/heads/viberator/ticket-1'],
      dest,
    );
    expect(push.code, push.stderr).toBe(0);

    const branch = await readBranch(appRepo, 'viberator/ticket-1');
    expect(branch?.message).toBe('Fix ticket 1\n\nBody line');
    expect(branch?.files).toEqual(['CHANGE.md', 'README.md', 'src/index.ts']);
    expect(branch?.sha).toMatch(/^[0-9a-f]{40}$/);
    expect(await listBranches(appRepo)).toEqual(['main', 'viberator/ticket-1']);
    expect(await readBranch(appRepo, 'does-not-exist')).toBeNull();
  });

  it('rejects a push to a protected branch through a real pre-receive hook', async () => {
    const locked = await createBareRepo(root, 'acme/locked');
    await protectBranch(locked, 'main');
    const before = await readBranch(locked, 'main');
    const dest = join(work, 'push-protected');
    const header = `http.extraHeader=${authHeader(TOKEN)}`;
    expect(
      (await gitClient(['-c', header, 'clone', server.repoUrl('acme/locked'), dest], work)).code,
    ).toBe(0);
    await writeFile(join(dest, 'x.txt'), 'x\n');
    await gitClient(['add', '-A'], dest);
    await gitClient(['commit', '-m', 'direct to main'], dest);

    const push = await gitClient(['-c', header, 'push', 'origin', 'HEAD:main'], dest);
    expect(push.code).toBe(1);
    expect(push.stderr).toContain(
      'remote: error: GH006: Protected branch update failed for refs/heads/main.',
    );
    expect(push.stderr).toContain('remote: error: protected branch hook declined');
    expect(push.stderr).toContain('[remote rejected] HEAD -> main (pre-receive hook declined)');
    expect((await readBranch(locked, 'main'))?.sha).toBe(before?.sha);

    // Other branches stay open.
    const side = await gitClient(['-c', header, 'push', 'origin', 'HEAD:refs/heads/side'], dest);
    expect(side.code, side.stderr).toBe(0);
  });

  it('serves a protocol v2 shallow clone and a partial clone', async () => {
    const dest = join(work, 'shallow');
    const run = await gitClient(
      [
        '-c',
        'protocol.version=2',
        '-c',
        `http.extraHeader=${authHeader(TOKEN)}`,
        'clone',
        '--depth',
        '1',
        server.repoUrl('acme/app'),
        dest,
      ],
      work,
      { GIT_TRACE_PACKET: '1' },
    );
    expect(run.code, run.stderr).toBe(0);
    // The server's first pkt-line under v2 is "version 2": proof GIT_PROTOCOL reached it.
    expect(run.stderr).toMatch(/packet:\s+git< version 2/);
    expect((await gitClient(['rev-parse', '--is-shallow-repository'], dest)).stdout.trim()).toBe(
      'true',
    );

    const partial = join(work, 'partial');
    const filtered = await gitClient(
      [
        '-c',
        `http.extraHeader=${authHeader(TOKEN)}`,
        'clone',
        '--filter=blob:none',
        server.repoUrl('acme/app'),
        partial,
      ],
      work,
    );
    expect(filtered.code, filtered.stderr).toBe(0);
    expect(filtered.stderr).not.toContain('filtering not recognized');
  });

  it('seeds 50,000 files quickly and serves them', async () => {
    const started = performance.now();
    const big = await createBareRepo(root, 'acme/big', { fileCount: 50_000 });
    const seedMs = performance.now() - started;
    expect(seedMs).toBeLessThan(20_000);
    const tip = await readBranch(big, 'main');
    expect(tip?.files).toHaveLength(50_000);
    expect(tip?.files[0]).toBe('generated/000/file-00000.txt');
    expect(tip?.files.at(-1)).toBe('generated/049/file-49999.txt');

    const dest = join(work, 'big');
    const run = await gitClient(
      [
        '-c',
        `http.extraHeader=${authHeader(TOKEN)}`,
        'clone',
        '--no-checkout',
        '--depth',
        '1',
        server.repoUrl('acme/big'),
        dest,
      ],
      work,
    );
    expect(run.code, run.stderr).toBe(0);
    const count = await gitClient(['ls-tree', '-r', '--name-only', 'HEAD'], dest);
    expect(count.stdout.trim().split('\n')).toHaveLength(50_000);
  });

  it('refuses to seed a repository twice or with a bad name', async () => {
    await expect(createBareRepo(root, 'acme/app')).rejects.toThrow(/already exists/);
    await expect(createBareRepo(root, 'no-slash')).rejects.toThrow(/owner\/repo/);
    await expect(createBareRepo(root, 'acme/x', { branch: 'bad..name' })).rejects.toThrow(
      /Invalid branch/,
    );
  });
});

describe('git HTTP server close()', () => {
  it('ends an in-flight http-backend child and its connection', async () => {
    const root = await mkdtemp(join(tmpdir(), 'git-http-close-'));
    await createBareRepo(root, 'acme/app');
    const server = await startGitHttpServer({ projectRoot: root, token: TOKEN });
    const url = new URL(`${server.repoUrl('acme/app')}/git-upload-pack`);

    // A POST whose body never ends keeps http-backend blocked reading stdin.
    const req = request(url, {
      method: 'POST',
      headers: {
        Authorization: `Bearer ${TOKEN}`,
        'Content-Type': 'application/x-git-upload-pack-request',
        'Transfer-Encoding': 'chunked',
      },
    });
    const failed = new Promise<void>((resolve) => {
      req.on('error', () => resolve());
      req.on('response', (res) => {
        res.resume();
        res.on('close', () => resolve());
      });
    });
    req.write('0032want ');
    await waitFor(() => server.requests.length === 1);
    await waitFor(async () => (await backendPids()).length > 0);

    const started = performance.now();
    await server.close();
    expect(performance.now() - started).toBeLessThan(2_000);
    await failed;
    await waitFor(async () => (await backendPids()).length === 0);
    await rm(root, { recursive: true, force: true });

    /** http-backend processes that are children of this test process. */
    async function backendPids(): Promise<number[]> {
      const pids: number[] = [];
      for (const entry of await readdir('/proc')) {
        if (!/^\d+$/.test(entry)) continue;
        try {
          const stat = await readFile(`/proc/${entry}/stat`, 'utf8');
          const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8');
          // Field 4 of stat is the parent pid; the name in parentheses may contain spaces.
          const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
          const zombie = stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
          if (ppid === process.pid && !zombie && cmdline.includes('http-backend')) {
            pids.push(Number(entry));
          }
        } catch {
          // The process ended while we looked.
        }
      }
      return pids;
    }
  });
});

async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
