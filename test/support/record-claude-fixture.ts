/**
 * Records the real output of the pinned `claude` CLI, run headless against the scripted
 * model server, as golden fixtures for the Claude Code parser:
 *
 *   npx vite-node test/support/record-claude-fixture.ts record            # every case
 *   npx vite-node test/support/record-claude-fixture.ts record api-500    # one case
 *
 * (`tsx` is not installed here; `vite-node` comes with vitest.) Each case writes
 * `test/fixtures/agents/claude-code/<case>.jsonl` (stdout, sanitized) and
 * `<case>.expected.json` (the CLI arguments, exit, stderr, and what the current parser makes
 * of them). The arguments are the adapter's own (`claudeCodeArgs`), so the fixtures show what
 * a worker sees.
 * Re-record when the pinned CLI changes, then review the diff of the expected files: they
 * are the parser's contract, not a rubber stamp.
 *
 * Also exports the headless runner the model server's tests use, so both drive the CLI the
 * same way a worker would.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { claudeCodeArgs } from '../../src/agents/claude-code/command-args.js';
import { createClaudeCodeParser } from '../../src/agents/claude-code/parser.js';
import type { AgentExit } from '../../src/agents/types.js';
import { initDemoCheckout } from './agent-sandbox.js';
import { startModelServer } from './model-server/model-server.js';
import type { ModelScript } from './model-server/scripted-model.js';

/** The pinned CLI in node_modules. */
export const CLAUDE_BIN = fileURLToPath(new URL('../../node_modules/.bin/claude', import.meta.url));

/** Where the golden fixtures live. */
export const FIXTURE_DIR = fileURLToPath(
  new URL('../fixtures/agents/claude-code/', import.meta.url),
);

/** A temporary git checkout plus the separate home the CLI gets. */
export interface Sandbox {
  root: string;
  checkout: string;
  home: string;
  remove(): Promise<void>;
}

/** Creates a temp dir holding a one-commit git checkout and an empty home directory. */
export async function createSandbox(): Promise<Sandbox> {
  const root = await mkdtemp(join(tmpdir(), 'claude-run-'));
  const checkout = join(root, 'checkout');
  const home = join(root, 'home');
  await mkdir(checkout);
  await mkdir(home);
  await initDemoCheckout(checkout);
  return { root, checkout, home, remove: () => rm(root, { recursive: true, force: true }) };
}

/** Options of {@link runClaudeHeadless}. */
export interface HeadlessRunOptions {
  baseUrl: string;
  apiKey: string;
  prompt: string;
  checkout: string;
  home: string;
  model?: string;
  /** Extra variables, e.g. `CLAUDE_CODE_MAX_RETRIES`. */
  env?: Record<string, string>;
  /** Send SIGTERM after this long (the worker's inactivity limit, in small). */
  killAfterMs?: number;
  /** Called once the process is spawned. */
  onSpawn?: (child: ChildProcess) => void;
}

/** What a headless run produced. */
export interface HeadlessRun {
  /** The CLI's arguments (without the binary): the claude-code adapter's. */
  args: string[];
  stdout: string[];
  stderr: string[];
  exit: AgentExit;
  durationMs: number;
}

/**
 * The environment of a headless run, built from an allowlist (never `process.env` spread).
 * `CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1` alone stops every outside lookup of
 * 2.1.331 (telemetry, update and feature-flag fetches); the DISABLE_* switches are kept as
 * belt and braces for other versions.
 */
export function headlessEnv(opts: HeadlessRunOptions): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: opts.home,
    CLAUDE_CONFIG_DIR: opts.home,
    ANTHROPIC_BASE_URL: opts.baseUrl,
    ANTHROPIC_API_KEY: opts.apiKey,
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    DISABLE_TELEMETRY: '1',
    DISABLE_AUTOUPDATER: '1',
    DISABLE_ERROR_REPORTING: '1',
    ...opts.env,
  };
}

function lines(text: string): string[] {
  return text.split('\n').filter((l) => l.trim() !== '');
}

/** Runs the pinned CLI the way a headless worker would: prompt on stdin, cwd = checkout. */
export function runClaudeHeadless(opts: HeadlessRunOptions): Promise<HeadlessRun> {
  const started = Date.now();
  // The adapter's own arguments, so fixtures and model-server tests see what a worker runs.
  const args = claudeCodeArgs({ model: opts.model });
  const child = spawn(CLAUDE_BIN, args, {
    cwd: opts.checkout,
    env: headlessEnv(opts),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  opts.onSpawn?.(child);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => {
    stdout += c;
  });
  child.stderr.setEncoding('utf8').on('data', (c: string) => {
    stderr += c;
  });
  child.stdin.end(opts.prompt);
  const timer =
    opts.killAfterMs === undefined
      ? undefined
      : setTimeout(() => child.kill('SIGTERM'), opts.killAfterMs);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({
        args,
        stdout: lines(stdout),
        stderr: lines(stderr),
        exit: { code, signal },
        durationMs: Date.now() - started,
      });
    });
  });
}

/** One recorded scenario. */
interface FixtureCase {
  prompt: string;
  script?: ModelScript;
  /** The key the CLI sends; the server expects `sk-demo`. */
  cliApiKey?: string;
  env?: Record<string, string>;
  killAfterMs?: number;
}

/** A conversation touching every kind of event: thinking, read, denial, command, error. */
const mixedToolsScript: ModelScript = (turn) => {
  if (turn.tools.length === 0) return { type: 'text', text: 'OK.' };
  const cwd = turn.cwd ?? '/';
  const steps = [
    {
      thinking: 'The user wants a look around. Read the README first.',
      text: 'Let me look at the repository.',
      name: 'Read',
      input: { file_path: join(cwd, 'README.md') },
    },
    // acceptEdits covers edits inside the working directory only; with no one to ask, the
    // CLI denies this one. (Commands are allowed: the adapter passes --allowedTools Bash.)
    {
      name: 'Write',
      input: { file_path: join(dirname(cwd), 'outside.txt'), content: 'not allowed\n' },
    },
    { name: 'Bash', input: { command: 'ls', description: 'List files' } },
    // Reading a file that does not exist fails as a tool error.
    { name: 'Read', input: { file_path: join(cwd, 'missing.txt') } },
  ];
  const step = steps[turn.toolCalls];
  if (step) {
    const { name, input, ...said } = step;
    return { type: 'tool_call', intent: { kind: 'raw', name, input }, ...said };
  }
  return { type: 'text', thinking: 'All done.', text: 'I looked around; nothing to change.' };
};

/** The recorded scenarios; the file names are the keys. */
const CASES: Record<string, FixtureCase> = {
  'write-two-files': {
    prompt: [
      'Add a greeting and some notes.',
      '[[write hello.txt]]',
      'Hello, world!',
      '[[end]]',
      '[[write docs/notes.md]]',
      '# Notes',
      '',
      'Written by the demo model.',
      '[[end]]',
      '[[answer]]',
      'Added hello.txt and docs/notes.md.',
      '[[end]]',
    ].join('\n'),
  },
  'text-only': { prompt: 'What is this repository?' },
  'api-401': {
    prompt: 'What is this repository?',
    cliApiKey: 'sk-wrong',
    env: { CLAUDE_CODE_MAX_RETRIES: '0' },
  },
  'api-500': { prompt: 'Fail.\n[[status 500]]', env: { CLAUDE_CODE_MAX_RETRIES: '0' } },
  'api-529-retried': { prompt: 'Busy.\n[[status 529]]', env: { CLAUDE_CODE_MAX_RETRIES: '1' } },
  'mixed-tools': { prompt: 'Look around the repository.', script: mixedToolsScript },
  'killed-while-waiting': { prompt: 'Wait.\n[[hang]]', killAfterMs: 2_000 },
};

/** A fixed session id for recordings (the CLI picks a random one per run). */
const SESSION_ID = '00000000-0000-4000-8000-000000000000';

/**
 * Replaces the temp paths, the server's port, the session id and the CLI's socket name, so
 * fixtures don't depend on the machine and don't churn between recordings.
 */
function sanitize(text: string, sandbox: Sandbox, baseUrl: string, sessionId?: string): string {
  const dashed = (p: string) => p.replace(/[^a-zA-Z0-9]/g, '-');
  return (sessionId ? text.replaceAll(sessionId, SESSION_ID) : text)
    .replace(/\/cc-socks\/\d+\.sock/g, '/cc-socks/0.sock')
    .replaceAll(sandbox.checkout, '/workspace/checkout')
    .replaceAll(sandbox.home, '/workspace/home')
    .replaceAll(dashed(sandbox.checkout), '-workspace-checkout')
    .replaceAll(sandbox.root, '/workspace')
    .replaceAll(new URL(baseUrl).host, '127.0.0.1:PORT');
}

async function record(name: string, c: FixtureCase): Promise<void> {
  const server = await startModelServer({ apiKey: 'sk-demo', script: c.script });
  const sandbox = await createSandbox();
  try {
    const result = await runClaudeHeadless({
      baseUrl: server.url,
      apiKey: c.cliApiKey ?? 'sk-demo',
      prompt: c.prompt,
      checkout: sandbox.checkout,
      home: sandbox.home,
      env: c.env,
      killAfterMs: c.killAfterMs,
    });
    const sessionId = /"session_id":"([^"]+)"/.exec(result.stdout.join('\n'))?.[1];
    const clean = (l: string) => sanitize(l, sandbox, server.url, sessionId);
    const stdout = result.stdout.map(clean);
    const stderr = result.stderr.map(clean);
    const parser = createClaudeCodeParser();
    const events = [
      ...stdout.flatMap((l) => parser.line(l, 'stdout')),
      ...stderr.flatMap((l) => parser.line(l, 'stderr')),
    ];
    const end = parser.end(result.exit);
    const expected = {
      // Recorded so a test can tell when the adapter's arguments moved on from the fixtures.
      args: result.args,
      exit: result.exit,
      stderr,
      events: [...events, ...end.events],
      outcome: end.outcome,
    };
    await writeFile(join(FIXTURE_DIR, `${name}.jsonl`), `${stdout.join('\n')}\n`);
    await writeFile(
      join(FIXTURE_DIR, `${name}.expected.json`),
      `${JSON.stringify(expected, null, 2)}\n`,
    );
    const exit = result.exit.signal ?? result.exit.code;
    console.log(`${name}: exit ${exit}, ${stdout.length} lines, ${result.durationMs} ms`);
  } finally {
    await sandbox.remove();
    await server.close();
  }
}

async function main(names: string[]): Promise<void> {
  for (const name of names.length > 0 ? names : Object.keys(CASES)) {
    const c = CASES[name];
    if (!c) throw new Error(`unknown case ${name}; known: ${Object.keys(CASES).join(', ')}`);
    await record(name, c);
  }
}

// Recording overwrites fixtures, so it takes an explicit `record`; imported by a test or a
// script (vite-node hides the entry's path from process.argv), this module only lends its
// runner.
if (!process.env.VITEST && process.argv[2] === 'record') {
  main(process.argv.slice(3)).catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
