import { lstat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { WorkerError } from '../errors.js';
import type { AgentIdentity } from '../isolation/agent-identity.js';
import { asAgent } from '../isolation/run-as-agent.js';
import { CommandStoppedError, runCommand } from '../process/run-command.js';
import {
  type ChangeLimits,
  checkChangeLimits,
  limitError,
  type SizedPath,
} from './change-limits.js';
import type { GitSetup } from './git-runner.js';
import { git, isolatedGitEnv } from './git-runner.js';
import { readAgentFile } from './read-agent-file.js';
import { gitHeadline } from './repository.js';
import { createStageDir, type StageDir } from './stage-dir.js';
import { STAGE_SCRIPT, SURVEY_SCRIPT } from './stage-scripts.js';

/** What staging as the agent user produced; paths are byte strings (latin1). */
export interface StagedChange {
  stage: StageDir;
  /** The tree of the checkout as staged. */
  tree: string;
  /** The throwaway commit of that tree on the base (only its objects are new). */
  commit: string;
  /** The pack of every new object, in the staging dir (the agent user wrote it). */
  packPath: string;
  /** The agent's own commit messages, newest first (empty when it made no commit). */
  agentMessages: string[];
  /** FIFOs, sockets and devices that were removed, never committed. */
  special: string[];
  /** Directories of nested repositories, left out of the commit. */
  nested: string[];
}

/** Lists in the staging dir are read as data, and only up to this size. */
const LIST_LIMIT = 64 * 1024 * 1024;
const OBJECT_ID = /^[0-9a-f]{40}([0-9a-f]{24})?$/;

/**
 * Stages what the agent left in its checkout, AS THE AGENT USER (runtime.md, "The worker reads
 * nothing of the agent's with its own privileges"): git run as that user reads only what the
 * agent itself could read, in a staging git dir of the worker's making, with the worker's
 * hardening, no secret in its environment and the staging time limit. Before git reads any
 * content the survey removes FIFOs, sockets and devices, finds nested repositories (left out:
 * no gitlink the base did not have) and files over the size limits, which the worker refuses
 * here (`push_failed`, naming the limit and the file). `exclude` lists the worker's own files
 * in the checkout (never committed: they keep the base's version).
 */
export async function stageAgentChange(opts: {
  setup: GitSetup;
  identity: AgentIdentity;
  workspaceRoot: string;
  baseSha: string;
  /** The agent's own HEAD (read as data), when it committed. */
  agentHead?: string;
  exclude: string[];
  limits: ChangeLimits;
}): Promise<StagedChange> {
  const { setup, limits } = opts;
  // The lists are byte strings (latin1): a file name need not be UTF-8.
  const exclude = opts.exclude.map((path) => Buffer.from(path, 'utf8').toString('latin1'));
  const deadline = Date.now() + limits.stageMs;
  const stage = await createStageDir(opts.workspaceRoot, setup.gitDir, opts.identity);
  const run = (script: string, args: string[], name: string) =>
    runStageScript(opts, stage, script, args, name, deadline);

  await run(
    SURVEY_SCRIPT,
    [String(limits.maxFileBytes), String(opts.identity.uid)],
    'the survey of the change',
  );
  const special = await readList(stage, 'special');
  const nested = (await readList(stage, 'nested')).map(leftOutFor);
  const leftOut = (path: string) =>
    exclude.includes(path) || nested.some((dir) => path === dir || path.startsWith(`${dir}/`));

  const big = (await readList(stage, 'big')).map(sizedRecord).filter((f) => !leftOut(f.path));
  if (big.length > 0) {
    // Unchanged files of the base may be large; anything else over the limit is refused.
    const base = await baseSizes(setup, opts.baseSha);
    checkChangeLimits(
      big.filter((file) => base.get(file.path) !== file.size),
      limits,
    );
  }
  const sizes = new Map(
    (await readList(stage, 'sizes')).map(sizedRecord).map((f) => [f.path, f.size]),
  );
  const changed: SizedPath[] = (await readList(stage, 'changed'))
    .map((path) => path.replace(/\/$/, ''))
    .filter((path) => !leftOut(path) && sizes.has(path))
    .map((path) => ({ path, size: sizes.get(path) ?? 0 }));
  checkChangeLimits(changed, limits);

  const pathspec = ['.', ...[...exclude, ...nested].map((p) => `:(exclude,literal)${p}`)];
  await writeFile(
    join(stage.root, 'pathspec'),
    Buffer.from(pathspec.map((p) => `${p}\0`).join(''), 'latin1'),
    { mode: 0o644 },
  );
  await run(
    STAGE_SCRIPT,
    [opts.baseSha, opts.agentHead ?? '', join(setup.workTree, '.git', 'objects')],
    'staging the change',
  );
  const staged = (await readAgentFile(join(stage.root, 'staged'), 1024))?.toString('latin1');
  const [tree, commit] = (staged ?? '').trim().split(' ');
  if (!tree || !commit || !OBJECT_ID.test(tree) || !OBJECT_ID.test(commit)) {
    throw new WorkerError('push_failed', "the agent's change could not be staged", {
      retryable: false,
      step: 'committing',
    });
  }
  const messages = await readAgentFile(join(stage.root, 'messages'), 1024 * 1024);
  return {
    stage,
    tree,
    commit,
    packPath: join(stage.root, 'change.pack'),
    agentMessages: (messages?.toString('utf8') ?? '').split('\0').filter((m) => m.trim()),
    special: special.map(display),
    nested: nested.map(display),
  };
}

/** The environment of staging git run as the agent user: hardening, no secrets, no HOME config. */
function stageEnv(setup: GitSetup, stage: StageDir): Record<string, string> {
  return {
    PATH: setup.hostEnv.PATH ?? '/usr/bin:/bin',
    LC_ALL: 'C',
    // Anything a tool writes for itself stays in the staging area, removed with the workspace.
    TMPDIR: stage.home,
    GIT_DIR: stage.gitDir,
    GIT_WORK_TREE: setup.workTree,
    GIT_INDEX_FILE: join(stage.gitDir, 'index'),
    ...isolatedGitEnv(stage.home, setup.author, [
      ['log.mailmap', 'false'],
      ['log.showSignature', 'false'],
      ['commit.gpgSign', 'false'],
      ['gc.auto', '0'],
      ['maintenance.auto', 'false'],
    ]),
  };
}

async function runStageScript(
  opts: { setup: GitSetup; identity: AgentIdentity },
  stage: StageDir,
  script: string,
  args: string[],
  name: string,
  deadline: number,
): Promise<void> {
  const spec = await asAgent(
    opts.identity,
    {
      file: '/bin/sh',
      args: ['-c', script, 'sh', opts.setup.workTree, stage.root, ...args],
      cwd: stage.root,
      env: stageEnv(opts.setup, stage),
    },
    stage.root,
  );
  let outcome: Awaited<ReturnType<typeof runCommand>>;
  try {
    outcome = await runCommand(spec, {
      timeoutMs: Math.max(1, deadline - Date.now()),
      signal: opts.setup.signal,
      name,
    });
  } catch (error) {
    if (error instanceof CommandStoppedError && error.reason === 'aborted') {
      throw new WorkerError('cancelled', `the worker was asked to stop (SIGTERM) during ${name}`);
    }
    if (error instanceof CommandStoppedError) {
      throw limitError(
        `${name} took longer than ${Math.round(error.timeoutMs / 1000)} s (VIBERATOR_STAGE_TIMEOUT) in ${opts.setup.workTree}`,
      );
    }
    throw error;
  }
  if (outcome.exitCode !== 0) {
    // git ran as the agent user: its words can only quote what the agent could read.
    throw new WorkerError(
      'push_failed',
      `the agent's change could not be staged (${name}, exit code ${outcome.exitCode}): ${gitHeadline(outcome.stderr)}`,
      { retryable: false, step: 'committing' },
    );
  }
}

/** A NUL-separated list the survey wrote, as byte strings without the leading `./`. */
async function readList(stage: StageDir, name: string): Promise<string[]> {
  const path = join(stage.root, name);
  const data = await readAgentFile(path, LIST_LIMIT);
  if (data === undefined) {
    const info = await lstat(path).catch(() => undefined);
    if (info?.isFile() && info.size > LIST_LIMIT) {
      throw limitError(
        `the list of ${name} files is larger than ${LIST_LIMIT / 1024 / 1024} MiB: far more files than VIBERATOR_MAX_CHANGED_FILES allows`,
      );
    }
    return [];
  }
  return data
    .toString('latin1')
    .split('\0')
    .filter((entry) => entry.length > 0)
    .map((entry) => entry.replace(/^(\d+ )?\.\//, '$1'));
}

/** `<size> <path>` → a sized path. */
function sizedRecord(record: string): SizedPath {
  const space = record.indexOf(' ');
  return { size: Number(record.slice(0, space)), path: record.slice(space + 1) };
}

/**
 * What a `.git` found below the top leaves out: `sub/.git` → the repository `sub`; a `.GIT`
 * of another case (not a repository to git, but no path git may commit either) → itself.
 */
function leftOutFor(entry: string): string {
  const slash = entry.lastIndexOf('/');
  return entry.slice(slash + 1) === '.git' && slash > 0 ? entry.slice(0, slash) : entry;
}

/** A byte-string path as text for people (UTF-8, invalid bytes replaced). */
export function display(path: string): string {
  return Buffer.from(path, 'latin1').toString('utf8');
}

/** The size of every blob of the base commit, by path (byte strings). */
async function baseSizes(setup: GitSetup, baseSha: string): Promise<Map<string, number>> {
  const out = await git(setup, ['ls-tree', '-r', '-l', '-z', baseSha], {
    objectsOnly: true,
    bytes: true,
  });
  const sizes = new Map<string, number>();
  for (const record of (out.stdoutBytes ?? Buffer.alloc(0)).toString('latin1').split('\0')) {
    const match = /^\d+ blob [0-9a-f]+ +(\d+)\t(.*)$/s.exec(record);
    if (match) sizes.set(match[2] ?? '', Number(match[1]));
  }
  return sizes;
}
