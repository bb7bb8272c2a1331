import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalWorld, startLocalWorld } from '../support/local-world/local-world.js';
import { executionPayload, writePrompt } from '../support/payloads.js';
import { cliEnv, plantedSecrets, runCli, tempDir, worldEnv } from '../support/run-cli.js';

const exec = promisify(execFile);

describe('viberator agents and doctor', () => {
  it('agents lists the seven slugs with their CLIs and keys', async () => {
    const run = await runCli(['agents'], { env: cliEnv({}) });
    expect(run.code).toBe(0);
    const lines = run.stdout.trim().split('\n');
    expect(lines.map((line) => line.split(/\s+/)[0])).toEqual([
      'claude-code',
      'codex',
      'gemini-cli',
      'qwen-cli',
      'opencode',
      'mistral-vibe',
      'kimi-code',
    ]);
    expect(lines[0]).toMatch(
      /^claude-code\s+claude\s+ANTHROPIC_API_KEY or CLAUDE_CODE_OAUTH_TOKEN$/,
    );
  });

  it('doctor finds the bundled Claude Code with its version, and git and node', async () => {
    const run = await runCli(['doctor'], { env: cliEnv({}) });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(
      /^claude-code: found \S+claude\.exe \(2\.1\.331 \(Claude Code\)\); needs ANTHROPIC_API_KEY or CLAUDE_CODE_OAUTH_TOKEN$/m,
    );
    expect(run.stdout).toMatch(/^git: git version \d/m);
    expect(run.stdout).toContain(`node: ${process.version}`);
    // The shared places the agent's leftovers are removed from (runtime.md).
    expect(run.stdout).toMatch(/^temp cleanup: .*\/tmp, \/var\/tmp, \/dev\/shm.* SysV IPC/m);
  });

  it('doctor finds the pinned CLIs at their pinned versions, and Kimi Code with its Node 22', async () => {
    const pins = JSON.parse(
      await readFile(new URL('../../agents/package.json', import.meta.url), 'utf8'),
    ) as { dependencies: Record<string, string> };
    const run = await runCli(['doctor'], { env: cliEnv({}) });
    const version = (name: string) => (pins.dependencies[name] ?? '?').replace(/\./g, '\\.');
    expect(run.stdout).toMatch(
      new RegExp(
        `^codex: found \\S+/agents/node_modules/\\.bin/codex \\(codex-cli ${version('@openai/codex')}\\)`,
        'm',
      ),
    );
    expect(run.stdout).toMatch(
      new RegExp(`^gemini-cli: found \\S+ \\(${version('@google/gemini-cli')}\\)`, 'm'),
    );
    expect(run.stdout).toMatch(
      new RegExp(`^qwen-cli: found \\S+ \\(${version('@qwen-code/qwen-code')}\\)`, 'm'),
    );
    expect(run.stdout).toMatch(
      new RegExp(`^opencode: found \\S+ \\(${version('opencode-ai')}\\)`, 'm'),
    );
    expect(run.stdout).toMatch(
      new RegExp(
        `^kimi-code: found \\S+/kimi \\(${version('@moonshot-ai/kimi-code')}\\), run with \\S+/node \\(v${version('node')}\\); needs KIMI_API_KEY$`,
        'm',
      ),
    );
    expect(run.stdout).toMatch(/^mistral-vibe: not found: .*uv tool install mistral-vibe==/m);
  });

  it('a launcher too old for Kimi Code: doctor says so, and a job is agent_unavailable', async () => {
    const old = { VIBERATOR_AGENT_LAUNCHER_KIMI_CODE: process.execPath };
    const doctor = await runCli(['doctor'], { env: cliEnv(old) });
    expect(doctor.stdout).toMatch(
      new RegExp(
        `^kimi-code: not found: Kimi Code needs node ≥ 22\\.19\\.0 \\(${process.execPath} is ${process.version}\\).*VIBERATOR_AGENT_LAUNCHER_KIMI_CODE`,
        'm',
      ),
    );
    const repo = await tempDir('viberator-kimi-old-');
    await exec('git', ['init', '-q', '-b', 'main', repo]);
    await exec('git', [
      '-C',
      repo,
      '-c',
      'user.name=T',
      '-c',
      'user.email=t@x',
      'commit',
      '-q',
      '--allow-empty',
      '-m',
      'init',
    ]);
    const job = await runCli(
      ['run', '--repo', repo, '--agent', 'kimi-code', '--prompt', 'Hello.'],
      {
        env: cliEnv({
          ...old,
          KIMI_API_KEY: 'sk-kimi-test',
          VIBERATOR_WORK_ROOT: await tempDir('viberator-kimi-work-'),
        }),
      },
    );
    expect(job.result?.failure).toMatchObject({
      code: 'agent_unavailable',
      step: 'initialising_agent',
      retryable: false,
    });
    expect(job.result?.failure?.message).toContain('needs node ≥ 22.19.0');
  });

  it('doctor reports a CLI override that is not there', async () => {
    const run = await runCli(['doctor'], {
      env: cliEnv({ VIBERATOR_AGENT_BIN_CLAUDE_CODE: '/nope/claude' }),
    });
    expect(run.stdout).toMatch(
      /^claude-code: not found: .*VIBERATOR_AGENT_BIN_CLAUDE_CODE=\/nope\/claude/m,
    );
  });

  it('run without a payload or the flags is a usage error, exit 2', async () => {
    const run = await runCli(['run', '--repo', '/tmp/x'], { env: cliEnv({}) });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('give --payload <path|s3://…|->, or --repo, --agent and --prompt');
  });

  it('an unknown agent from flags is invalid_payload naming the field', async () => {
    const run = await runCli(['run', '--repo', '/tmp/x', '--agent', 'hal-9000', '--prompt', 'x'], {
      env: cliEnv({}),
    });
    expect(run.code).toBe(2);
    expect(run.result?.failure?.message).toMatch(/clanker\.agent: Invalid option/);
  });
});

describe('GitHub Enterprise (GITHUB_API_URL with /api/v3)', () => {
  const secrets = plantedSecrets();
  let world: LocalWorld;

  beforeAll(async () => {
    world = await startLocalWorld({ credentials: secrets, githubPathPrefix: '/api/v3' });
  });
  afterAll(async () => world?.close());

  it('opens the pull request through the enterprise API base', async () => {
    expect(world.github.apiUrl).toMatch(/\/api\/v3$/);
    const run = await runCli(['run', '--payload', '-'], {
      env: worldEnv(world, await tempDir('viberator-ghe-')),
      stdin: JSON.stringify(
        executionPayload({
          jobId: 'job_ghe',
          repoUrl: world.repoUrl,
          modelUrl: world.model.url,
          prompt: writePrompt('ghe.txt', 'enterprise'),
        }),
      ),
    });
    expect(run.result?.failure).toBeUndefined();
    expect(run.result?.prNumber).toBe(1);
    expect(
      world.github.requests.some(
        (request) =>
          request.method === 'POST' && request.path.startsWith('/api/v3/repos/acme/demo-app/pulls'),
      ),
    ).toBe(true);
  });
});
