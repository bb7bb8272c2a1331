/**
 * Seeds and inspects bare repositories served by the demo git HTTP server.
 *
 * Every git process here is asynchronous: tests run these helpers in the same process as
 * the git HTTP server, and a synchronous child would block the event loop that has to answer it.
 */
import { spawn } from 'node:child_process';
import { access, chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { devNull } from 'node:os';
import { join } from 'node:path';

/** Options for {@link createBareRepo}. */
export interface CreateBareRepoOptions {
  /** Branch that receives the initial commit and becomes HEAD. Default `main`. */
  branch?: string;
  /** Files of the initial commit, path → UTF-8 content. */
  files?: Record<string, string>;
  /** Number of small generated files to add under `generated/` (fast even for 50,000). */
  fileCount?: number;
  /** Message of the initial commit. Default `Initial commit`. */
  message?: string;
}

/** The tip of a branch as {@link readBranch} sees it. */
export interface BranchSnapshot {
  /** Commit id of the branch tip. */
  sha: string;
  /** Full commit message, trailing newlines removed. */
  message: string;
  /** Every file path in the tip's tree, recursively, in git's order. */
  files: string[];
}

interface GitResult {
  code: number;
  stdout: string;
  stderr: string;
}

const SEED_IDENTITY = 'Seed <seed@example.invalid>';
// A fixed date makes seeded commits byte-identical run to run, so their ids are reproducible.
const SEED_DATE = '1700000000 +0000';
const PROTECTED_LIST_FILE = 'protected-branches.json';
/**
 * fast-import allocates and frees a buffer per inline blob; glibc's default trim threshold
 * turns that into one brk() pair per file (measured: 200,000 syscalls and 1.7 s for 50,000
 * files). Padding the heap top brings it to about 0.3 s. Other C libraries ignore it.
 */
const FAST_IMPORT_ENV = { MALLOC_TOP_PAD_: String(64 * 1024 * 1024) };

/**
 * Environment for git children that ignores the host's configuration: no system or global
 * config (so no credential helper, hooksPath or identity leaks in), no inherited `GIT_*`
 * variables (a parent running inside a hook would otherwise redirect us to its repository),
 * and an identity that does not depend on HOME.
 */
export function isolatedGitEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('GIT_')) env[key] = value;
  }
  return {
    ...env,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: devNull,
    GIT_TERMINAL_PROMPT: '0',
    GIT_AUTHOR_NAME: 'Seed',
    GIT_AUTHOR_EMAIL: 'seed@example.invalid',
    GIT_COMMITTER_NAME: 'Seed',
    GIT_COMMITTER_EMAIL: 'seed@example.invalid',
    ...extra,
  };
}

/** Runs git asynchronously, optionally feeding `input` through stdin with backpressure. */
function runGit(
  args: string[],
  input?: AsyncIterable<string> | string,
  env: Record<string, string> = {},
): Promise<GitResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', args, {
      env: isolatedGitEnv(env),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', reject);
    child.on('close', (code) =>
      resolve({
        code: code ?? -1,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      }),
    );
    // EPIPE when git exits early is reported through its exit code and stderr instead.
    child.stdin.on('error', () => {});
    if (input === undefined) {
      child.stdin.end();
    } else if (typeof input === 'string') {
      child.stdin.end(input);
    } else {
      void pump(input, child.stdin);
    }
  });
}

async function pump(source: AsyncIterable<string>, sink: NodeJS.WritableStream): Promise<void> {
  try {
    for await (const chunk of source) {
      if (!sink.write(chunk)) {
        await new Promise<void>((r) => sink.once('drain', r));
      }
    }
  } finally {
    sink.end();
  }
}

async function git(
  args: string[],
  input?: AsyncIterable<string> | string,
  env?: Record<string, string>,
): Promise<string> {
  const result = await runGit(args, input, env);
  if (result.code !== 0) {
    throw new Error(`git ${args.join(' ')} exited ${result.code}: ${result.stderr.trim()}`);
  }
  return result.stdout;
}

function parseOwnerRepo(ownerRepo: string): { owner: string; repo: string } {
  // The owner may be a group path with subgroups (GitLab): `group/sub/app`.
  const match = /^((?:[A-Za-z0-9_.-]+\/)*[A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+?)(?:\.git)?$/.exec(
    ownerRepo,
  );
  if (
    !match?.[1] ||
    !match[2] ||
    match[1].split('/').some((part) => part.startsWith('.')) ||
    match[2].startsWith('.')
  ) {
    throw new Error(`Expected "owner/repo", got ${JSON.stringify(ownerRepo)}`);
  }
  return { owner: match[1], repo: match[2] };
}

/** Quotes a path the way fast-import expects when it would otherwise be ambiguous. */
function fastImportPath(path: string): string {
  if (!/^"|\n|\\/.test(path)) return path;
  return `"${path.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

function inlineFile(path: string, content: string): string {
  return `M 100644 inline ${fastImportPath(path)}\ndata ${Buffer.byteLength(content)}\n${content}\n`;
}

/** The fast-import stream of one root commit, yielded in batches so 50,000 files stay cheap. */
async function* initialCommitStream(
  branch: string,
  message: string,
  files: Record<string, string>,
  fileCount: number,
): AsyncGenerator<string> {
  const msg = message.endsWith('\n') ? message : `${message}\n`;
  yield [
    `commit refs/heads/${branch}`,
    `author ${SEED_IDENTITY} ${SEED_DATE}`,
    `committer ${SEED_IDENTITY} ${SEED_DATE}`,
    `data ${Buffer.byteLength(msg)}`,
    msg,
  ].join('\n');
  for (const [path, content] of Object.entries(files)) yield inlineFile(path, content);
  const width = String(Math.max(fileCount - 1, 0)).length;
  let batch = '';
  for (let i = 0; i < fileCount; i++) {
    // 1,000 files per directory keeps every tree small, like a real source tree.
    const dir = String(Math.floor(i / 1000)).padStart(3, '0');
    const name = String(i).padStart(width, '0');
    batch += inlineFile(`generated/${dir}/file-${name}.txt`, `generated file ${i}\n`);
    if (i % 1000 === 999) {
      yield batch;
      batch = '';
    }
  }
  yield `${batch}\ndone\n`;
}

/**
 * Creates `<projectRoot>/<owner>/<repo>.git` as a bare repository holding one commit on
 * `branch`, configured so the demo git HTTP server can serve partial clones and accept pushes.
 *
 * The commit is written with `git fast-import` (no work tree, no index), which is what keeps
 * tens of thousands of files fast.
 *
 * @returns the bare repository's path.
 * @throws when `ownerRepo` is not `owner/repo` or the repository already exists.
 */
export async function createBareRepo(
  projectRoot: string,
  ownerRepo: string,
  opts: CreateBareRepoOptions = {},
): Promise<string> {
  const { owner, repo } = parseOwnerRepo(ownerRepo);
  const branch = opts.branch ?? 'main';
  await assertBranchName(branch);
  const bare = join(projectRoot, owner, `${repo}.git`);
  if (await exists(bare)) throw new Error(`Repository already exists: ${bare}`);
  await mkdir(join(projectRoot, owner), { recursive: true });

  await git(['init', '--bare', '--quiet', `--initial-branch=${branch}`, bare]);
  // allowFilter lets clients ask for `--filter=blob:none`; receivepack lets http-backend
  // accept pushes from an authenticated REMOTE_USER.
  await git(['--git-dir', bare, 'config', 'uploadpack.allowFilter', 'true']);
  await git(['--git-dir', bare, 'config', 'http.receivepack', 'true']);

  const fileCount = opts.fileCount ?? 0;
  if (!Number.isInteger(fileCount) || fileCount < 0) {
    throw new Error(`fileCount must be a non-negative integer, got ${fileCount}`);
  }
  const files =
    opts.files ?? (fileCount > 0 ? {} : { 'README.md': `# ${repo}\n\nSeeded for the demo.\n` });
  const stream = initialCommitStream(branch, opts.message ?? 'Initial commit', files, fileCount);
  await git(['--git-dir', bare, 'fast-import', '--quiet', '--done'], stream, FAST_IMPORT_ENV);
  return bare;
}

/**
 * Protects `branch` with a real `pre-receive` hook that declines any push updating,
 * creating or deleting it, printing GitHub's GH006 wording.
 *
 * git itself reports the ref as `(pre-receive hook declined)`; a pre-receive hook cannot change
 * that text, so the GitHub phrase travels in the hook's `remote:` lines. Calling it again for
 * another branch protects both.
 */
export async function protectBranch(
  bareRepoPath: string,
  branch: string,
  message = 'protected branch hook declined',
): Promise<void> {
  await assertBranchName(branch);
  const listPath = join(bareRepoPath, PROTECTED_LIST_FILE);
  const list: Record<string, string> = (await exists(listPath))
    ? (JSON.parse(await readFile(listPath, 'utf8')) as Record<string, string>)
    : {};
  list[`refs/heads/${branch}`] = message;
  await writeFile(listPath, `${JSON.stringify(list, null, 2)}\n`);
  const hookPath = join(bareRepoPath, 'hooks', 'pre-receive');
  await mkdir(join(bareRepoPath, 'hooks'), { recursive: true });
  await writeFile(hookPath, preReceiveHook(list));
  await chmod(hookPath, 0o755);
}

/** Single-quotes a string for POSIX sh. */
function shQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

function preReceiveHook(list: Record<string, string>): string {
  const cases = Object.entries(list)
    .map(([ref, message]) => {
      const lines = [
        `error: GH006: Protected branch update failed for ${ref}.`,
        ...message.split('\n').map((l) => `error: ${l}`),
      ];
      const echoes = lines.map((l) => `      printf '%s\\n' ${shQuote(l)} >&2`).join('\n');
      return `    ${shQuote(ref)})\n${echoes}\n      declined=1\n      ;;`;
    })
    .join('\n');
  // The hook reads every "<old> <new> <ref>" line before deciding, as git expects of it.
  return `#!/bin/sh
# Generated by protectBranch (test/support/local-world/seed-repo.ts): rejects pushes to protected branches.
declined=0
while read -r old new ref; do
  case "$ref" in
${cases}
  esac
done
exit "$declined"
`;
}

/**
 * Reads the tip of `branch`: its commit id, message and recursive file list.
 *
 * @returns null when the branch does not exist.
 */
export async function readBranch(
  bareRepoPath: string,
  branch: string,
): Promise<BranchSnapshot | null> {
  const ref = `refs/heads/${branch}`;
  const resolved = await runGit([
    '--git-dir',
    bareRepoPath,
    'rev-parse',
    '--verify',
    '--quiet',
    `${ref}^{commit}`,
  ]);
  if (resolved.code !== 0) return null;
  const sha = resolved.stdout.trim();
  const [message, tree] = await Promise.all([
    git(['--git-dir', bareRepoPath, 'log', '-1', '--format=%B', sha]),
    git(['--git-dir', bareRepoPath, 'ls-tree', '-r', '--name-only', '-z', sha]),
  ]);
  return {
    sha,
    message: message.replace(/\n+$/, ''),
    files: tree.split('\0').filter((f) => f !== ''),
  };
}

/** Lists the branch names (without `refs/heads/`) of a repository, sorted by name. */
export async function listBranches(bareRepoPath: string): Promise<string[]> {
  const out = await git([
    '--git-dir',
    bareRepoPath,
    'for-each-ref',
    '--format=%(refname:strip=2)',
    'refs/heads/',
  ]);
  return out.split('\n').filter((b) => b !== '');
}

async function assertBranchName(branch: string): Promise<void> {
  const result = await runGit(['check-ref-format', '--branch', branch]);
  if (result.code !== 0 || branch.startsWith('-')) {
    throw new Error(`Invalid branch name: ${JSON.stringify(branch)}`);
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
