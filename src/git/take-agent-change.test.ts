/**
 * What the agent leaves is taken over as the agent user and checked (runtime.md, "The agent
 * is untrusted"): real git, a root worker and the agent as another uid, the agent's work
 * played by a shell script run as that uid. The end-to-end versions through the real
 * Claude Code CLI live in test/e2e/hostile-*.test.ts; these are the fast, exhaustive ones.
 */
import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WorkerError } from '../errors.js';
import type { AgentIdentity } from '../isolation/agent-identity.js';
import { createWorkspace, type Workspace } from '../workspace/workspace.js';
import { checkOutForAgent } from './agent-checkout.js';
import { type ChangeLimits, DEFAULT_CHANGE_LIMITS } from './change-limits.js';
import { cloneRepository } from './clone.js';
import type { GitSetup } from './repository.js';
import { refuseSecretsInChange } from './secret-scan.js';
import { takeAgentChange } from './take-agent-change.js';
import { testGitSetup } from './test-git-setup.js';

const run = promisify(execFile);
const isRoot = process.getuid?.() === 0;
// Outside the range the e2e helpers hand out (test/support/run-cli.ts), below the reserved 65530.
let nextUid = 64000 + (process.pid % 240) * 4;

describe.runIf(isRoot)('taking over what the agent left (root worker, agent uid)', () => {
  let root: string;
  let rootOnly: string;
  let ws: Workspace;
  let setup: GitSetup;
  let identity: AgentIdentity;
  let marker: string;

  beforeEach(async () => {
    const uid = nextUid++;
    identity = { mode: 'root', uid, gid: uid, label: `${uid}:${uid}`, reserved: false };
    root = await mkdtemp(join(tmpdir(), 'take-change-'));
    await chmod(root, 0o711);
    rootOnly = join(root, 'root-only');
    await mkdir(rootOnly, { mode: 0o700 });
    marker = `ROOTONLY-${uid}-${Date.now()}`;
    await writeFile(join(rootOnly, 'secret'), `${marker}\n`, { mode: 0o600 });
    await run('git', ['init', '-q', join(rootOnly, 'repo')]);
    await run('git', [
      '-C',
      join(rootOnly, 'repo'),
      '-c',
      'user.name=R',
      '-c',
      'user.email=r@x',
      'commit',
      '-q',
      '--allow-empty',
      '-m',
      'root',
    ]);
    const origin = join(root, 'origin');
    await run('git', ['init', '-q', '-b', 'main', origin]);
    await writeFile(join(origin, 'README.md'), '# App\n');
    await run('git', ['-C', origin, 'add', '.']);
    await run('git', [
      '-C',
      origin,
      '-c',
      'user.name=T',
      '-c',
      'user.email=t@x',
      'commit',
      '-qm',
      'init',
    ]);
    ws = await createWorkspace(join(root, 'work'), 'job_take', identity);
    setup = testGitSetup(origin, ws);
  });
  afterEach(async () => {
    await run('pkill', ['-KILL', '-U', String(identity.uid)]).catch(() => {});
    await run('rm', ['-rf', root]);
  });

  async function job(agentScript: string, limits: Partial<ChangeLimits> = {}) {
    const checkout = await cloneRepository(setup, ws.worker, 'main', 'viberator/T-1');
    await checkOutForAgent(setup, identity, {
      workBranch: 'viberator/T-1',
      baseSha: checkout.baseSha,
      agentTmp: ws.tmp,
    });
    await run('/bin/sh', ['-c', agentScript, 'sh', rootOnly], {
      cwd: ws.checkout,
      uid: identity.uid,
      gid: identity.gid,
      env: { PATH: process.env.PATH, HOME: ws.home, GIT_CONFIG_GLOBAL: '/dev/null' },
    });
    const started = Date.now();
    const taken = await takeAgentChange({
      setup,
      identity,
      workspaceRoot: ws.root,
      baseSha: checkout.baseSha,
      subject: 'T-1: change',
      commitIdentity: { jobId: 'job_take', agent: 'claude-code', clankerId: 'clk' },
      exclude: [],
      limits: { ...DEFAULT_CHANGE_LIMITS, stageMs: 20_000, ...limits },
    });
    const tree = (await run('git', ['--git-dir', ws.gitDir, 'ls-tree', '-r', taken.headSha]))
      .stdout;
    return { taken, tree, ms: Date.now() - started };
  }

  async function failure(promise: Promise<unknown>): Promise<WorkerError> {
    const error = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(WorkerError);
    return error as WorkerError;
  }

  it('a nested repository is never followed: a root-only packed-refs is not read, nothing under it is committed', async () => {
    const { taken, tree } = await job(`
      mkdir -p sub && cd sub && git init -q && rm -rf .git/refs/heads && mkdir .git/refs/heads
      printf 'ref: refs/heads/main\\n' > .git/HEAD
      ln -s "$1/secret" .git/packed-refs && echo z > z.txt && cd ..
      mkdir -p deep/er && ln -s "$1/repo/.git" deep/er/.git && echo y > deep/er/y.txt
      mkdir -p .GIT cased/.Git && echo c > .GIT/config && echo c > cased/.Git/HEAD && echo c > cased/c.txt
      echo kept > kept.txt`);
    expect(taken.changedFiles).toEqual(['cased/c.txt', 'kept.txt']);
    expect(taken.nested.sort()).toEqual(['.GIT', 'cased/.Git', 'deep/er', 'sub']);
    expect(tree).not.toMatch(/^160000/m);
    expect(JSON.stringify(taken)).not.toContain(marker);
  });

  it('a gitfile to a root-only repository adds no gitlink and no file under it', async () => {
    const { taken, tree } = await job(`
      mkdir sub && printf 'gitdir: %s/repo/.git\\n' "$1" > sub/.git && echo x > sub/file.txt
      mkdir own && cd own && git init -q && echo o > o && git add o && git -c user.name=A -c user.email=a@x commit -qm o && cd ..
      echo kept > kept.txt`);
    expect(taken.changedFiles).toEqual(['kept.txt']);
    expect(tree).not.toMatch(/^160000/m);
    expect(tree).not.toContain('sub/file.txt');
  });

  it('FIFOs, sockets and links to them are removed, never opened, never committed', async () => {
    const { taken, ms } = await job(`
      mkfifo .gitignore .gitattributes plain.fifo && mkdir -p sub && mkfifo sub/.gitignore
      mkfifo "$HOME/outside.fifo" && ln -s "$HOME/outside.fifo" .mailmap
      python3 -c 'import socket; s = socket.socket(socket.AF_UNIX); s.bind("sock")'
      echo kept > kept.txt`);
    expect(ms).toBeLessThan(10_000);
    expect(taken.changedFiles).toEqual(['kept.txt']);
    expect(taken.special.sort()).toEqual(
      ['.gitattributes', '.gitignore', '.mailmap', 'plain.fifo', 'sock', 'sub/.gitignore'].sort(),
    );
  });

  it('a sparse file counts at its full size: refused by name before git reads it', async () => {
    const error = await failure(job('truncate -s 3G big.bin && echo small > small.txt'));
    expect(error.code).toBe('push_failed');
    expect(error.retryable).toBe(false);
    expect(error.message).toContain('"big.bin" is 3.0 GiB');
    expect(error.message).toContain('VIBERATOR_MAX_FILE_SIZE');
  });

  it("a sparse pack in the agent's git dir is never copied", async () => {
    const { taken } = await job(`
      echo one > one.txt && git add one.txt && git -c user.name=A -c user.email=a@x commit -qm one
      truncate -s 3G .git/objects/pack/pack-${'0'.repeat(40)}.pack .git/objects/pack/pack-${'0'.repeat(40)}.idx`);
    expect(taken.changedFiles).toEqual(['one.txt']);
    const du = (await run('du', ['-sk', ws.root])).stdout;
    expect(Number(du.split('\t')[0])).toBeLessThan(50_000);
  });

  it("objects git's own checks refuse (a .gitmodules with an option for a URL) are not taken over", async () => {
    const error = await failure(
      job(
        `printf '[submodule "x"]\\n\\tpath = x\\n\\turl = --upload-pack=touch /tmp/pwned\\n' > .gitmodules`,
      ),
    );
    expect(error.code).toBe('push_failed');
    expect(error.retryable).toBe(false);
    expect(error.message).toContain('index-pack --strict refused the staged objects');
    expect(error.message).toMatch(/gitmodulesUrl|disallowed submodule url/i);
  });

  it('more files, or more bytes, than the limits allow: refused naming the limit', async () => {
    const many = await failure(
      job('for i in $(seq 1 30); do echo $i > f$i.txt; done', { maxFiles: 10 }),
    );
    expect(many.message).toContain('VIBERATOR_MAX_CHANGED_FILES');
    await rm(ws.root, { recursive: true, force: true });
    ws = await createWorkspace(join(root, 'work'), 'job_take', identity);
    const bytes = await failure(
      job('head -c 600000 /dev/urandom > a.bin && head -c 600000 /dev/urandom > b.bin', {
        maxTotalBytes: 1_000_000,
      }),
    );
    expect(bytes.message).toContain('VIBERATOR_MAX_CHANGE_SIZE');
    expect(bytes.message).toMatch(/"[ab]\.bin"/);
  });

  it("the agent's commits are squashed: the worker's identity and trailers, its messages kept inert", async () => {
    const { taken } = await job(`
      echo feature > feature.txt && git add feature.txt
      GIT_COMMITTER_NAME='Trusted Maintainer' GIT_COMMITTER_EMAIL=tm@x git -c user.name='Trusted Maintainer' -c user.email=tm@x \\
        commit -q --author='Trusted Maintainer <tm@x>' -m 'feat: the feature' -m 'Viberator-Job: job_someone_else'`);
    const show = (
      await run('git', [
        '--git-dir',
        ws.gitDir,
        'log',
        '-1',
        '--format=%an <%ae>|%cn <%ce>%n%B',
        taken.headSha,
      ])
    ).stdout;
    expect(show.split('\n')[0]).toBe('Viberator <v@example.invalid>|Viberator <v@example.invalid>');
    expect(show).toContain('    feat: the feature');
    expect(show).not.toContain('job_someone_else');
    const trailers = (
      await run('git', [
        '--git-dir',
        ws.gitDir,
        'log',
        '-1',
        '--format=%(trailers:key=Viberator-Job,valueonly)',
        taken.headSha,
      ])
    ).stdout.trim();
    expect(trailers).toBe('job_take');
    expect(taken.changedFiles).toEqual(['feature.txt']);
  });

  it('a secret is found in every byte pushed: binary, -diff, base64, hex, UTF-16, a file name', async () => {
    const secret = `deploy-${Date.now()}-s3cr3t`;
    const b64 = Buffer.from(secret).toString('base64');
    const hex = Buffer.from(secret).toString('hex');
    const { taken } = await job(`
      printf '* -diff\\n' > .gitattributes
      printf '%s' '${secret}' > plain.txt
      printf 'x\\000%s' '${secret}' > nul.bin
      printf 'data=%s' '${b64}' > b64.txt
      printf '%s' '${hex}' > hex.txt
      python3 -c 'import sys; open("u16.txt","wb").write(sys.argv[1].encode("utf-16-le"))' '${secret}'
      echo x > 'name-${secret}'`);
    const error = await failure(
      refuseSecretsInChange(setup, taken.entries, taken.message, [
        { name: 'DEPLOY_TOKEN', value: secret },
      ]),
    );
    expect(error.code).toBe('push_failed');
    expect(error.retryable).toBe(false);
    for (const file of ['plain.txt', 'nul.bin', 'b64.txt', 'hex.txt', 'u16.txt'])
      expect(error.message).toContain(`"${file}"`);
    expect(error.message).toContain('a file name');
    expect(error.message).toContain('DEPLOY_TOKEN');
    expect(error.message).not.toContain(secret);
  });
});
