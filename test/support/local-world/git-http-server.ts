/**
 * A local git smart-HTTP server with GitHub-style token auth, for the demo and tests.
 *
 * Each request runs the real `git http-backend` as a CGI program, so clients speak the same
 * protocol (v0 and v2, shallow and partial clones, pushes with hooks) as against a real host.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isolatedGitEnv } from './seed-repo.js';

/** Options for {@link startGitHttpServer}. */
export interface GitHttpServerOptions {
  /** Directory holding `<owner>/<repo>.git` bare repositories. */
  projectRoot: string;
  /** The only password (Basic) or bearer token the server accepts. */
  token: string;
  /** Interface to listen on. Default `127.0.0.1`. */
  host?: string;
}

/** One request the server saw, in arrival order. */
export interface GitHttpRequestRecord {
  method: string;
  /** The request target as sent: path and query string. */
  path: string;
  /** Whether the credentials carried the right token. */
  authorized: boolean;
  /** The user name of the accepted credentials (how the client presented the token). */
  user?: string;
  /** HTTP status sent, once the response has started. */
  status?: number;
}

/** A running server returned by {@link startGitHttpServer}. */
export interface GitHttpServer {
  /** `http://HOST:PORT`, no trailing slash. */
  baseUrl: string;
  /** Clone URL of a repository, e.g. `repoUrl('acme/app')` → `${baseUrl}/acme/app.git`. */
  repoUrl(ownerRepo: string): string;
  /** Every request received, for assertions. */
  requests: GitHttpRequestRecord[];
  /** Stops listening, drops open connections and kills in-flight `git http-backend` children. */
  close(): Promise<void>;
}

/** The user git hands to hooks when the client sent a bearer token or an empty username. */
const TOKEN_USER = 'x-access-token';

/**
 * Checks an `Authorization` header the way GitHub's git endpoint does: `Basic` with any
 * username and the token as password (scheme matched case-insensitively, since
 * `http.extraHeader` users often write `basic`), or `Bearer <token>`.
 *
 * @returns the user name for `REMOTE_USER`, or null when the credentials are missing or wrong.
 */
function authenticate(header: string | undefined, token: string): string | null {
  if (!header) return null;
  const match = /^(\S+)\s+(\S+)\s*$/.exec(header);
  if (!match?.[1] || !match[2]) return null;
  const scheme = match[1].toLowerCase();
  if (scheme === 'bearer') return sameSecret(match[2], token) ? TOKEN_USER : null;
  if (scheme !== 'basic') return null;
  const decoded = Buffer.from(match[2], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return null;
  if (!sameSecret(decoded.slice(colon + 1), token)) return null;
  return decoded.slice(0, colon) || TOKEN_USER;
}

/** Constant-time comparison, so the demo does not teach a timing leak. */
function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Starts the server on a random port.
 *
 * Credentials are checked on every request (not only `info/refs`), so a client that
 * authenticates the ref advertisement but not the pack request fails as it would on GitHub.
 */
export async function startGitHttpServer(opts: GitHttpServerOptions): Promise<GitHttpServer> {
  const host = opts.host ?? '127.0.0.1';
  const requests: GitHttpRequestRecord[] = [];
  const children = new Set<ChildProcess>();

  const server = createServer((req, res) => {
    const record: GitHttpRequestRecord = {
      method: req.method ?? 'GET',
      path: req.url ?? '/',
      authorized: false,
    };
    requests.push(record);
    res.on('finish', () => {
      record.status = res.statusCode;
    });
    const user = authenticate(req.headers.authorization, opts.token);
    if (user === null) {
      req.resume();
      res.writeHead(401, {
        'WWW-Authenticate': 'Basic realm="GitHub"',
        'Content-Type': 'text/plain; charset=utf-8',
      });
      res.end('Unauthorized');
      return;
    }
    record.authorized = true;
    record.user = user;
    runBackend(req, res, user, opts.projectRoot, children);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  const baseUrl = `http://${urlHost}:${port}`;

  return {
    baseUrl,
    repoUrl: (ownerRepo) => `${baseUrl}/${ownerRepo.replace(/\.git$/, '')}.git`,
    requests,
    close: async () => {
      const exits = [...children].map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) resolve();
            else child.once('close', () => resolve());
          }),
      );
      for (const child of children) killGroup(child);
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await Promise.all([closed, ...exits]);
    },
  };
}

/**
 * Kills a backend and everything it started: http-backend runs upload-pack/receive-pack and
 * hooks as its own children, which would outlive a plain kill of the parent.
 */
function killGroup(child: ChildProcess): void {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    child.kill('SIGKILL');
  }
}

/** Runs `git http-backend` for one request, streaming the body in and the CGI reply out. */
function runBackend(
  req: IncomingMessage,
  res: ServerResponse,
  user: string,
  projectRoot: string,
  children: Set<ChildProcess>,
): void {
  const url = new URL(req.url ?? '/', 'http://placeholder');
  let pathInfo: string;
  try {
    pathInfo = decodeURIComponent(url.pathname);
  } catch {
    req.resume();
    res.writeHead(400, { 'Content-Type': 'text/plain; charset=utf-8' });
    res.end('Bad request path\n');
    return;
  }
  const env: Record<string, string> = {
    GIT_PROJECT_ROOT: projectRoot,
    GIT_HTTP_EXPORT_ALL: '1',
    PATH_INFO: pathInfo,
    QUERY_STRING: url.search.slice(1),
    REQUEST_METHOD: req.method ?? 'GET',
    CONTENT_TYPE: req.headers['content-type'] ?? '',
    // Without REMOTE_USER http-backend refuses receive-pack; it also reaches hooks.
    REMOTE_USER: user,
    REMOTE_ADDR: req.socket.remoteAddress ?? '',
    GATEWAY_INTERFACE: 'CGI/1.1',
    SERVER_PROTOCOL: `HTTP/${req.httpVersion}`,
  };
  // Chunked pushes carry no length; http-backend then reads to EOF, which is what we want.
  const length = req.headers['content-length'];
  if (length !== undefined) env.CONTENT_LENGTH = length;
  const protocol = req.headers['git-protocol'];
  if (typeof protocol === 'string') env.GIT_PROTOCOL = protocol;
  const encoding = req.headers['content-encoding'];
  if (encoding !== undefined) env.HTTP_CONTENT_ENCODING = encoding;

  // detached puts the backend in its own process group so close() can kill the whole tree.
  const child = spawn('git', ['http-backend'], {
    env: isolatedGitEnv(env),
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
  });
  children.add(child);
  child.on('close', () => children.delete(child));

  const stderr: Buffer[] = [];
  child.stderr?.on('data', (c: Buffer) => stderr.push(c));
  child.on('error', (error) => {
    if (!res.headersSent) {
      res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end(`git http-backend failed to start: ${error.message}\n`);
    }
  });

  // A client that hangs up mid-transfer should not leave a backend working for nobody.
  res.on('close', () => {
    if (!res.writableFinished) killGroup(child);
  });

  child.stdin?.on('error', () => {}); // EPIPE when the backend answers before reading the body
  req.pipe(child.stdin as NodeJS.WritableStream);

  let head = Buffer.alloc(0);
  let headerDone = false;
  child.stdout?.on('data', (chunk: Buffer) => {
    if (headerDone) {
      if (!res.write(chunk)) {
        child.stdout?.pause();
        res.once('drain', () => child.stdout?.resume());
      }
      return;
    }
    head = Buffer.concat([head, chunk]);
    const split = findHeaderEnd(head);
    if (!split) return;
    headerDone = true;
    writeCgiHead(res, head.subarray(0, split.start).toString('latin1'));
    const rest = head.subarray(split.end);
    if (rest.length > 0) res.write(rest);
  });
  child.on('close', (code) => {
    if (!headerDone && !res.headersSent) {
      const detail = Buffer.concat(stderr).toString('utf8').trim();
      res.writeHead(502, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end(`git http-backend exited ${code} without a reply${detail ? `: ${detail}` : ''}\n`);
      return;
    }
    res.end();
  });
}

/** Finds the blank line that ends CGI headers; CGI allows LF as well as CRLF line ends. */
function findHeaderEnd(buf: Buffer): { start: number; end: number } | null {
  const crlf = buf.indexOf('\r\n\r\n');
  const lf = buf.indexOf('\n\n');
  if (crlf >= 0 && (lf < 0 || crlf <= lf)) return { start: crlf, end: crlf + 4 };
  if (lf >= 0) return { start: lf, end: lf + 2 };
  return null;
}

/** Turns CGI headers into an HTTP response head; `Status:` becomes the status line. */
function writeCgiHead(res: ServerResponse, block: string): void {
  let status = 200;
  let reason: string | undefined;
  const headers: Record<string, string[]> = {};
  for (const line of block.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    if (name.toLowerCase() === 'status') {
      const m = /^(\d{3})\s*(.*)$/.exec(value);
      if (m?.[1]) {
        status = Number(m[1]);
        reason = m[2] || undefined;
      }
      continue;
    }
    const list = headers[name] ?? [];
    list.push(value);
    headers[name] = list;
  }
  if (reason) res.statusMessage = reason;
  for (const [name, values] of Object.entries(headers)) {
    res.setHeader(name, values.length === 1 ? (values[0] as string) : values);
  }
  res.writeHead(status);
}
