import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codexAdapter } from '../../../src/agents/codex/adapter.js';
import { createAgentSandbox } from '../../support/agent-sandbox.js';
import { type LocalWorld, startLocalWorld } from '../../support/local-world/local-world.js';
import { listBranches } from '../../support/local-world/seed-repo.js';
import { executionPayload } from '../../support/payloads.js';
import { cliEnv, plantedSecrets, runCli, tempDir } from '../../support/run-cli.js';
import { agentSuite } from './agent-suite.js';

const MODEL = 'gpt-5.5';

agentSuite({
  agent: 'codex',
  keyName: 'OPENAI_API_KEY',
  model: MODEL,
  // OpenAI's convention: the base URL ends in /v1 and Codex appends /responses.
  baseUrl: (url) => `${url}/v1`,
  // Codex also reads the repository's own AGENTS.md; the clanker's goes to $CODEX_HOME.
  checkoutInstructions: 'AGENTS.md',
});

describe('codex: the config.toml the adapter writes', () => {
  it('is accepted by the pinned CLI with --strict-config (every key known)', async () => {
    // Nothing listens on port 9: the run fails at once, after the config was loaded.
    const sandbox = await createAgentSandbox(codexAdapter, {
      prompt: 'Say hello.',
      key: 'sk-demo',
      baseUrl: 'http://127.0.0.1:9/v1',
      model: MODEL,
      agentsMd: '# Rules\n',
    });
    try {
      const { file, args, cwd, env } = sandbox.command;
      const strict = [args[0] ?? 'exec', '--strict-config', ...args.slice(1)];
      const child = execFile(file, strict, { cwd, env, timeout: 60_000 });
      child.stdin?.end('Say hello.');
      const [stdout, stderr] = await new Promise<[string, string]>((resolve) => {
        let out = '';
        let err = '';
        child.stdout?.on('data', (d) => {
          out += d;
        });
        child.stderr?.on('data', (d) => {
          err += d;
        });
        child.on('close', () => resolve([out, err]));
      });
      expect(stderr).not.toMatch(/unknown configuration field|Error loading config/);
      expect(stdout).toContain('"type":"thread.started"');
      expect(stdout).toContain('"type":"turn.failed"');
    } finally {
      await sandbox.remove();
    }
  });
});

describe('codex: research runs in the read-only sandbox', () => {
  const secrets = plantedSecrets();
  let world: LocalWorld;
  let workRoot: string;

  beforeAll(async () => {
    world = await startLocalWorld({ credentials: secrets });
    workRoot = await tempDir('viberator-codex-ro-');
  });
  afterAll(async () => {
    await world?.close();
    if (workRoot) await rm(workRoot, { recursive: true, force: true });
  });

  it('reads the checkout, cannot write to it, and answers with a document', {
    timeout: 300_000,
  }, async () => {
    const before = await listBranches(world.bareRepo);
    const requests = world.model.requests.length;
    const prompt = [
      'Research the repository.',
      '[[bash]]',
      'cat README.md; echo scribble > made-by-shell.txt',
      '[[end]]',
      '[[write notes.md]]',
      'Notes.',
      '[[end]]',
      '[[answer]]',
      'The repository is a demo app.',
      '[[end]]',
    ].join('\n');
    const result = await runCli(['run', '--payload', '-', '--keep-workspace'], {
      stdin: JSON.stringify(
        executionPayload({
          jobId: 'job_codex_research',
          repoUrl: world.repoUrl,
          modelUrl: '',
          prompt,
          overrides: {
            template: 'ticket_research',
            clanker: {
              id: 'clk_test',
              name: 'test-bot',
              agent: 'codex',
              model: MODEL,
              baseUrl: `${world.model.url}/v1`,
            },
            secrets: [{ name: 'OPENAI_API_KEY' }, { name: 'GITHUB_TOKEN' }],
          },
        }),
      ),
      timeoutMs: 280_000,
      env: cliEnv({
        VIBERATOR_WORK_ROOT: workRoot,
        GITHUB_API_URL: world.github.apiUrl,
        GITHUB_TOKEN: secrets.githubToken,
        OPENAI_API_KEY: secrets.anthropicKey,
      }),
    });
    expect(result.result?.failure, result.stderr.slice(-3000)).toBeUndefined();
    expect(result.result).toMatchObject({
      status: 'completed',
      phase: 'research',
      document: 'The repository is a demo app.',
    });
    expect(await listBranches(world.bareRepo)).toEqual(before);

    // The command ran and could read, but its write was refused; the patch was rejected.
    const checkout = join(workRoot, 'job_codex_research', 'repo');
    expect(existsSync(join(checkout, 'README.md'))).toBe(true);
    expect(existsSync(join(checkout, 'made-by-shell.txt'))).toBe(false);
    expect(existsSync(join(checkout, 'notes.md'))).toBe(false);
    const sent = JSON.stringify(world.model.requests.slice(requests).map((r) => r.body));
    expect(sent).toContain('A tiny repository');
    expect(sent).toContain('Read-only file system');
  });
});
