/**
 * A throwaway job workspace for running one agent CLI directly through its adapter — the
 * adapter's own prepare, files and command — without the worker around it. The fixture
 * recorder and the benchmark use it, so what they run is exactly what a worker runs.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { AgentAdapter, AgentContext } from '../../src/agents/adapter.js';
import { locateAgent } from '../../src/agents/locate-binary.js';
import { adapterFor } from '../../src/agents/registry.js';
import { agentSearchFrom } from '../../src/config/worker-env.js';
import type { Phase } from '../../src/payload/templates.js';
import type { CommandSpec } from '../../src/process/run-process.js';

const run = promisify(execFile);

/** The canonical paths fixtures are written with (see {@link AgentSandbox.sanitize}). */
export const CANONICAL_ROOT = '/workspace';

export interface AgentSandbox {
  root: string;
  ctx: AgentContext;
  /** The adapter's command for this sandbox, ready to spawn (as the current user). */
  command: CommandSpec;
  /** Replaces the sandbox's paths with {@link CANONICAL_ROOT} and the server's port with PORT. */
  sanitize(text: string): string;
  remove(): Promise<void>;
}

/** Makes `dir` a one-commit git checkout of a tiny demo repository (branch main). */
export async function initDemoCheckout(dir: string): Promise<void> {
  const git = (...args: string[]) => run('git', args, { cwd: dir });
  await git('init', '-q', '-b', 'main');
  await writeFile(join(dir, 'README.md'), '# Demo\n\nA demo repository.\n');
  await git('add', '.');
  await git(
    '-c',
    'user.name=Demo',
    '-c',
    'user.email=demo@example.invalid',
    'commit',
    '-qm',
    'init',
  );
}

/** The context a job would give the adapter, rooted at `root`. */
export function sandboxContext(
  root: string,
  opts: {
    binary: string;
    launcher?: string;
    prompt: string;
    keyName: string;
    key: string;
    baseUrl?: string;
    model?: string;
    agentsMd?: string;
    phase?: Phase;
    timeLimitMs?: number;
    agent: AgentAdapter['slug'];
  },
): AgentContext {
  const home = join(root, 'home');
  const tmp = join(root, 'tmp');
  const clanker = {
    id: 'clk_demo',
    name: 'demo-bot',
    agent: opts.agent,
    ...(opts.model ? { model: opts.model } : {}),
    ...(opts.baseUrl ? { baseUrl: opts.baseUrl } : {}),
    ...(opts.agentsMd ? { agentsMd: opts.agentsMd } : {}),
  };
  // Straight to the server (or the provider's endpoint): no gateway in between here.
  const baseUrl =
    opts.baseUrl ?? adapterFor(opts.agent).modelEndpoint(clanker, opts.keyName).baseUrl;
  return {
    checkoutDir: join(root, 'repo'),
    homeDir: home,
    configDir: join(root, 'agent'),
    tmpDir: tmp,
    binary: opts.binary,
    launcher: opts.launcher,
    prompt: opts.prompt,
    promptFile: join(root, 'agent', 'prompt.md'),
    phase: opts.phase ?? 'execution',
    timeLimitMs: opts.timeLimitMs ?? 600_000,
    model: { keyName: opts.keyName, key: opts.key, baseUrl, model: opts.model },
    clanker,
    agentsMd: opts.agentsMd,
    skills: [],
    baseEnv: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: home,
      TMPDIR: tmp,
      XDG_CONFIG_HOME: `${home}/.config`,
      XDG_CACHE_HOME: `${home}/.cache`,
      XDG_DATA_HOME: `${home}/.local/share`,
      XDG_STATE_HOME: `${home}/.local/state`,
      CI: 'true',
      LANG: 'C.UTF-8',
    },
  };
}

/** Creates the workspace (a one-commit git checkout), prepares the adapter in it. */
export async function createAgentSandbox(
  adapter: AgentAdapter,
  opts: {
    prompt: string;
    keyName?: string;
    key: string;
    baseUrl: string;
    model?: string;
    agentsMd?: string;
    phase?: Phase;
    env?: Record<string, string>;
  },
): Promise<AgentSandbox> {
  const root = await mkdtemp(join(tmpdir(), `agent-${adapter.slug}-`));
  for (const dir of ['repo', 'home', 'agent', 'tmp']) await mkdir(join(root, dir));
  const checkout = join(root, 'repo');
  await initDemoCheckout(checkout);
  const found = await locateAgent(adapter, agentSearchFrom({ ...process.env, ...opts.env }));
  // A relative override (e.g. a fake CLI in a recording profile) is relative to the repository.
  const located = { ...found, binary: resolve(found.binary) };
  const ctx = sandboxContext(root, {
    ...opts,
    agent: adapter.slug,
    binary: located.binary,
    launcher: located.launcher,
    keyName: opts.keyName ?? adapter.modelKeys({ model: opts.model })[0] ?? 'API_KEY',
  });
  await adapter.prepare(ctx);
  await writeFile(ctx.promptFile, ctx.prompt);
  for (const file of adapter.checkoutFiles?.(ctx) ?? []) {
    await mkdir(dirname(join(checkout, file.path)), { recursive: true });
    await writeFile(join(checkout, file.path), file.content);
  }
  const command = adapter.command(ctx);
  command.env = { ...command.env, ...opts.env };
  const port = new URL(opts.baseUrl).port;
  return {
    root,
    ctx,
    command,
    sanitize: (text) =>
      text
        .replaceAll(root, CANONICAL_ROOT)
        .replaceAll(located.binary, `/agents/${adapter.binaryName}`)
        .replaceAll(located.launcher ?? '\0', `/agents/${adapter.launcher?.program}`)
        .replaceAll(`127.0.0.1:${port}`, '127.0.0.1:PORT'),
    remove: () => rm(root, { recursive: true, force: true }),
  };
}
