/**
 * The instruction files an adapter places in the checkout (AGENTS.md, GEMINI.md, …): placed
 * for the run after the clone, invisible to the agent's `git add -A` / `commit -a`, and never
 * committed by the worker — a file the repository has reaches the commit exactly as it was,
 * even when the agent forces it into a commit of its own. Real git, a same-user identity.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { stageCheckoutFiles } from '../core/stage-checkout-files.js';
import type { AgentIdentity } from '../isolation/agent-identity.js';
import { createWorkspace, type Workspace } from '../workspace/workspace.js';
import { checkOutForAgent } from './agent-checkout.js';
import { DEFAULT_CHANGE_LIMITS } from './change-limits.js';
import { cloneRepository } from './clone.js';
import type { GitSetup } from './repository.js';
import { takeAgentChange } from './take-agent-change.js';
import { testGitSetup } from './test-git-setup.js';
import { WorkerGitDir } from './worker-git-dir.js';

const run = promisify(execFile);
const REPO_RULES = '# Repository rules\nUse tabs.\n';
const CLANKER_RULES = '# House rules\nMarker PLACED-4411.\n';

describe('instruction files placed in the checkout', () => {
  let root: string;
  let ws: Workspace;
  let setup: GitSetup;

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'checkout-files-'));
    const origin = join(root, 'origin');
    const g = (...args: string[]) => run('git', args, { cwd: origin });
    await run('git', ['init', '-q', '-b', 'main', origin]);
    await writeFile(join(origin, 'AGENTS.md'), REPO_RULES);
    await writeFile(join(origin, 'README.md'), '# App\n');
    await g('add', '.');
    await g('-c', 'user.name=T', '-c', 'user.email=t@example.invalid', 'commit', '-qm', 'init');
    const uid = process.getuid?.() ?? 0;
    const gid = process.getgid?.() ?? 0;
    const identity: AgentIdentity = { mode: 'same-user', uid, gid, label: 'the worker user' };
    ws = await createWorkspace(join(root, 'work'), 'job_files', identity);
    setup = testGitSetup(origin, ws);
  });
  afterEach(async () => rm(root, { recursive: true, force: true }));

  /** Clone, place AGENTS.md (tracked) and GEMINI.md (new), let `agent` act, then commit. */
  async function job(agent: (sh: (script: string) => Promise<string>) => Promise<void>) {
    const identity: AgentIdentity = {
      mode: 'same-user',
      uid: process.getuid?.() ?? 0,
      gid: process.getgid?.() ?? 0,
      label: 'the worker user',
    };
    const placed = await stageCheckoutFiles(
      [
        { path: 'AGENTS.md', content: CLANKER_RULES },
        { path: 'GEMINI.md', content: CLANKER_RULES },
      ],
      ws.agentConfig,
    );
    const checkout = await cloneRepository(setup, ws.worker, 'main', 'viberator/T-1');
    const state = await WorkerGitDir.capture(ws.gitDir);
    await checkOutForAgent(setup, identity, {
      workBranch: 'viberator/T-1',
      baseSha: checkout.baseSha,
      agentTmp: ws.tmp,
      placed,
    });
    const sh = async (script: string) =>
      (
        await run('sh', ['-c', script], {
          cwd: ws.checkout,
          env: { PATH: process.env.PATH, HOME: ws.home, GIT_CONFIG_GLOBAL: '/dev/null' },
        })
      ).stdout;
    await agent(sh);
    await state.restore();
    const outcome = await takeAgentChange({
      setup,
      identity,
      workspaceRoot: ws.root,
      baseSha: checkout.baseSha,
      subject: 'T-1: change',
      commitIdentity: { jobId: 'job_files', agent: 'codex', clankerId: 'clk' },
      exclude: placed.paths,
      limits: DEFAULT_CHANGE_LIMITS,
    });
    const show = async (path: string) =>
      run('git', ['--git-dir', ws.gitDir, 'show', `${outcome.headSha}:${path}`]).then(
        (r) => r.stdout,
        () => undefined,
      );
    return { outcome, show };
  }

  it('the agent reads both files and its git sees neither as a change', async () => {
    const { outcome, show } = await job(async (sh) => {
      expect(await readFile(join(ws.checkout, 'AGENTS.md'), 'utf8')).toBe(
        `${REPO_RULES}\n\n${CLANKER_RULES}`,
      );
      expect(await readFile(join(ws.checkout, 'GEMINI.md'), 'utf8')).toBe(CLANKER_RULES);
      expect(await sh('git status --porcelain')).toBe('');
      await sh(
        'echo change > app.txt && git add -A && git -c user.name=A -c user.email=a@x commit -qam agent',
      );
      expect(await sh('git show --stat --format= HEAD')).not.toMatch(/AGENTS|GEMINI/);
    });
    expect(outcome.changedFiles).toEqual(['app.txt']);
    expect(await show('AGENTS.md')).toBe(REPO_RULES);
    expect(await show('GEMINI.md')).toBeUndefined();
  });

  it('files the agent forces into its own commit are put back before the push', async () => {
    const { outcome, show } = await job(async (sh) => {
      await sh(
        [
          'git update-index --no-skip-worktree AGENTS.md',
          'git add -f AGENTS.md GEMINI.md',
          'git -c user.name=A -c user.email=a@x commit -qm sneaky',
          'echo more > other.txt',
        ].join(' && '),
      );
    });
    expect(outcome.changedFiles).toEqual(['other.txt']);
    expect(await show('AGENTS.md')).toBe(REPO_RULES);
    expect(await show('GEMINI.md')).toBeUndefined();
  });

  it('a symlink in the repository under that name is replaced for the run, and kept in the commit', async () => {
    await run('sh', [
      '-c',
      'cd "$1" && rm AGENTS.md && ln -s /etc/hostname AGENTS.md && git add -A && git -c user.name=T -c user.email=t@x commit -qm link',
      'sh',
      join(root, 'origin'),
    ]);
    const { outcome } = await job(async () => {
      expect(await readFile(join(ws.checkout, 'AGENTS.md'), 'utf8')).toBe(CLANKER_RULES);
    });
    expect(outcome.changedFiles).toEqual([]);
    const mode = await run('git', [
      '--git-dir',
      ws.gitDir,
      'ls-tree',
      outcome.headSha,
      'AGENTS.md',
    ]);
    expect(mode.stdout).toMatch(/^120000 /);
  });
});
