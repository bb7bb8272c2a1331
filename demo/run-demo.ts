import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startLocalWorld } from '../test/support/local-world/local-world.js';
import { readBranch } from '../test/support/local-world/seed-repo.js';

/** What the scripted model is asked to do: write one module, then summarise. */
const DEMO_PROMPT = `Add a greeting helper to the demo app.

[[write src/greet.js]]
export function greet(name) {
  return \`Hello, \${name}!\`;
}
[[end]]
[[answer]]
Added src/greet.js with a greet(name) helper that returns a friendly greeting.
[[end]]
`;

/**
 * `npm run demo`: a full execution job with the real Claude Code CLI and no keys or network.
 * A throwaway repository sits behind a local token-checking git server; a scripted model
 * server plays Anthropic's API; a GitHub stand-in receives the pull request. The worker runs
 * as its own CLI process, exactly as a user would start it.
 */
async function main(): Promise<number> {
  const credentials = {
    githubToken: `ghs_demo${randomBytes(12).toString('hex')}`,
    anthropicKey: `sk-ant-demo${randomBytes(12).toString('hex')}`,
  };
  const world = await startLocalWorld({ credentials });
  const workRoot = await mkdtemp(join(tmpdir(), 'viberator-demo-work-'));
  try {
    const payload = {
      version: 1,
      jobId: `demo-${Date.now()}`,
      template: 'ticket_developing',
      prompt: DEMO_PROMPT,
      project: {
        id: 'demo',
        name: 'Demo app',
        branchNameTemplate: 'viberator/{{ ticket }}-{{ clanker }}',
      },
      ticket: { id: 't_1', key: 'DEMO-1', title: 'Add a greeting helper' },
      repository: { url: world.repoUrl, baseBranch: 'main' },
      clanker: { id: 'clk_demo', name: 'demo-bot', agent: 'claude-code', baseUrl: world.model.url },
      secrets: [{ name: 'ANTHROPIC_API_KEY' }, { name: 'GITHUB_TOKEN' }],
    };
    process.stderr.write(
      `demo: repository ${world.repoUrl}, model ${world.model.url}, GitHub stand-in ${world.github.apiUrl}\n`,
    );
    // The demo is a dev-only bundle (build/dev/); the worker it runs is the published dist/cli.js.
    const cli = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist', 'cli.js');
    const { code, stdout } = await runCli(cli, JSON.stringify(payload), {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? workRoot,
      VIBERATOR_WORK_ROOT: workRoot,
      GITHUB_API_URL: world.github.apiUrl,
      ANTHROPIC_API_KEY: credentials.anthropicKey,
      GITHUB_TOKEN: credentials.githubToken,
      ...(process.env.VIBERATOR_AGENT_BIN_CLAUDE_CODE
        ? { VIBERATOR_AGENT_BIN_CLAUDE_CODE: process.env.VIBERATOR_AGENT_BIN_CLAUDE_CODE }
        : {}),
    });
    process.stdout.write(stdout);
    const result = JSON.parse(stdout) as { status: string; branch?: string; prUrl?: string };
    const pushed = result.branch ? await readBranch(world.bareRepo, result.branch) : null;
    process.stderr.write('\ndemo summary:\n');
    process.stderr.write(`  job:    ${result.status} (exit ${code})\n`);
    process.stderr.write(
      `  branch: ${pushed ? `${result.branch} pushed at ${pushed.sha.slice(0, 10)}, files: ${pushed.files.join(', ')}` : 'not pushed'}\n`,
    );
    process.stderr.write(
      `  PR:     ${result.prUrl ? `${result.prUrl} (opened on the local GitHub stand-in)` : 'none'}\n`,
    );
    return result.status === 'completed' && pushed && result.prUrl ? 0 : 1;
  } finally {
    await world.close();
    await rm(workRoot, { recursive: true, force: true });
  }
}

function runCli(
  cli: string,
  stdin: string,
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, 'run', '--payload', '-'], {
      env,
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout }));
    child.stdin.end(stdin);
  });
}

process.exitCode = await main();
