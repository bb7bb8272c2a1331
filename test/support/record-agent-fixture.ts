/**
 * Records the real output of a pinned agent CLI, run through its adapter (prepare, files,
 * command) against the scripted model server, as golden fixtures for its parser:
 *
 *   npx vite-node test/support/record-agent-fixture.ts record codex             # every case
 *   npx vite-node test/support/record-agent-fixture.ts record codex api-500     # one case
 *
 * Each case writes `test/fixtures/agents/<slug>/<case>.jsonl` (stdout, sanitized) and
 * `<case>.expected.json`: the adapter's arguments (canonical paths), the exit, stderr, and
 * what the current parser makes of them. Re-record when a pinned CLI changes, then review the
 * diff of the expected files: they are the parser's contract, not a rubber stamp.
 * (Claude Code keeps its own recorder, record-claude-fixture.ts, with its own cases.)
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { adapterFor } from '../../src/agents/registry.js';
import { AGENT_SLUGS, type AgentExit, type AgentSlug } from '../../src/agents/types.js';
import { createAgentSandbox } from './agent-sandbox.js';
import { startModelServer } from './model-server/model-server.js';
import type { ModelScript } from './model-server/scripted-model.js';

export const FIXTURES_ROOT = fileURLToPath(new URL('../fixtures/agents/', import.meta.url));

/**
 * Per-agent settings of a recording, in `test/fixtures/agents/<slug>/recording.json`: the
 * model name, what follows the server's URL in the base URL (e.g. `/v1`), extra environment
 * for the CLI, and cases of its own besides {@link COMMON_CASES}.
 */
export interface RecordingProfile {
  model: string;
  baseUrlSuffix?: string;
  env?: Record<string, string>;
  cases?: Record<string, FixtureCase>;
}

/** The recording profile of an agent, or undefined when it has none yet. */
export function recordingProfile(
  slug: AgentSlug,
  root = FIXTURES_ROOT,
): RecordingProfile | undefined {
  const file = join(root, slug, 'recording.json');
  return existsSync(file)
    ? (JSON.parse(readFileSync(file, 'utf8')) as RecordingProfile)
    : undefined;
}

/** One recorded scenario. */
export interface FixtureCase {
  prompt: string;
  /** A script instead of the prompt-directed default (cases in code only). */
  script?: ModelScript;
  /** The key the CLI sends; the server expects `sk-demo`. */
  cliApiKey?: string;
  /** Stop the CLI with SIGTERM after this long. */
  killAfterMs?: number;
  agentsMd?: string;
}

/** The cases every agent records; an agent may add its own in {@link EXTRA_CASES}. */
export const COMMON_CASES: Record<string, FixtureCase> = {
  'write-file': {
    prompt: [
      'Add a greeting.',
      '[[write hello.txt]]',
      'Hello, world!',
      '[[end]]',
      '[[answer]]',
      'Added hello.txt.',
      '[[end]]',
    ].join('\n'),
    agentsMd: '# House rules\n- Keep changes small.\n',
  },
  'command-then-write': {
    prompt: [
      'List the files, then add notes.',
      '[[bash]]',
      'ls',
      '[[end]]',
      '[[write docs/notes.md]]',
      '# Notes',
      '[[end]]',
    ].join('\n'),
  },
  'text-only': { prompt: 'What is this repository?' },
  'api-401': { prompt: 'What is this repository?', cliApiKey: 'sk-wrong' },
  'api-500': { prompt: 'Fail.\n[[status 500]]' },
  'killed-while-waiting': { prompt: 'Wait.\n[[hang]]', killAfterMs: 3_000 },
};

function lines(text: string): string[] {
  return text.split('\n').filter((l) => l.trim() !== '');
}

async function record(slug: AgentSlug, name: string, c: FixtureCase): Promise<void> {
  const adapter = adapterFor(slug);
  const profile = recordingProfile(slug);
  if (!profile)
    throw new Error(`no recording profile: test/fixtures/agents/${slug}/recording.json`);
  const server = await startModelServer({ apiKey: 'sk-demo', script: c.script });
  const sandbox = await createAgentSandbox(adapter, {
    prompt: c.prompt,
    key: c.cliApiKey ?? 'sk-demo',
    baseUrl: `${server.url}${profile.baseUrlSuffix ?? ''}`,
    model: profile.model,
    agentsMd: c.agentsMd,
    env: profile.env,
  });
  const started = Date.now();
  try {
    const { command } = sandbox;
    const child = spawn(command.file, command.args, {
      cwd: command.cwd,
      env: command.env,
      stdio: ['pipe', 'pipe', 'pipe'],
      // Its own process group, signalled whole as the worker does: a CLI's launcher may
      // run the CLI as a child that a signal to the launcher alone would leave running.
      detached: true,
    });
    const signalGroup = (name: NodeJS.Signals) => {
      try {
        if (child.pid) process.kill(-child.pid, name);
      } catch {
        child.kill(name);
      }
    };
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    child.stdin.end(command.stdin ?? '');
    const killer = c.killAfterMs
      ? setTimeout(() => signalGroup('SIGTERM'), c.killAfterMs)
      : undefined;
    // A CLI that retries forever is stopped, as the worker's limits would.
    const guard = setTimeout(() => signalGroup('SIGKILL'), 120_000);
    const exit = await new Promise<AgentExit>((resolve) =>
      child.on('close', (code, signal) => resolve({ code, signal })),
    );
    clearTimeout(killer);
    clearTimeout(guard);
    const out = lines(stdout).map(sandbox.sanitize);
    const err = lines(stderr).map(sandbox.sanitize);
    const parser = adapter.createParser();
    const events = [
      ...out.flatMap((l) => parser.line(l, 'stdout')),
      ...err.flatMap((l) => parser.line(l, 'stderr')),
    ];
    const end = parser.end(exit);
    const dir = join(FIXTURES_ROOT, slug);
    await mkdir(dir, { recursive: true });
    const expected = {
      args: command.args.map(sandbox.sanitize),
      exit,
      stderr: err,
      events: [...events, ...end.events],
      outcome: end.outcome,
    };
    await writeFile(join(dir, `${name}.jsonl`), `${out.join('\n')}\n`);
    await writeFile(join(dir, `${name}.expected.json`), `${JSON.stringify(expected, null, 2)}\n`);
    console.log(
      `${slug}/${name}: exit ${exit.signal ?? exit.code}, ${out.length} lines, ${Date.now() - started} ms`,
    );
  } finally {
    await sandbox.remove();
    await server.close();
  }
}

async function main(args: string[]): Promise<void> {
  const [slug, ...names] = args;
  if (!slug || !(AGENT_SLUGS as readonly string[]).includes(slug)) {
    throw new Error(`usage: record <agent> [case…]; agents: ${AGENT_SLUGS.join(', ')}`);
  }
  const cases = { ...COMMON_CASES, ...recordingProfile(slug as AgentSlug)?.cases };
  for (const name of names.length > 0 ? names : Object.keys(cases)) {
    const c = cases[name];
    if (!c) throw new Error(`unknown case ${name}; known: ${Object.keys(cases).join(', ')}`);
    await record(slug as AgentSlug, name, c);
  }
}

if (!process.env.VITEST && process.argv[2] === 'record') {
  main(process.argv.slice(3)).catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
