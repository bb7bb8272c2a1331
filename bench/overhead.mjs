// Worker overhead against bare git, on a small repository and on one with 50,000 files.
//
// Overhead = job wall time (the CLI process, spawn to exit) − agent wall time (the Result's
// agentDurationMs). Bare git = `git clone --depth 1` + commit + `git push` of the same
// repository through the same token-checking git server, then removing the clone (the worker
// removes its workspace too). Target (issue 2): overhead ≤ 1.2 × bare git + 300 ms.
//
// Each measurement starts after `sync`: deleting 50,000 files leaves the disk busy with
// discards for seconds, which would otherwise land on whichever measurement comes next.
//
// Usage: npm run bench:overhead [-- --runs 5]
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { startLocalWorld } from '../build/dev/local-world.js';

const exec = promisify(execFile);
const cli = resolve(import.meta.dirname, '../dist/cli.js');
const runsArg = process.argv.indexOf('--runs');
const RUNS = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 5;

const PROMPT = '[[write bench/result.txt]]\nbenchmarked\n[[end]]\n[[answer]]\nDone.\n[[end]]\n';

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function runJob(env, payload) {
  return new Promise((done, fail) => {
    const started = performance.now();
    const child = spawn(process.execPath, [cli, 'run', '--payload', '-'], {
      env,
      stdio: ['pipe', 'pipe', 'ignore'],
    });
    let stdout = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.on('error', fail);
    child.on('close', (code) => {
      const wall = performance.now() - started;
      const result = JSON.parse(stdout);
      if (code !== 0) fail(new Error(`job failed: ${JSON.stringify(result.failure)}`));
      else done({ wall, agent: result.agentDurationMs, core: result.durationMs });
    });
    child.stdin.end(JSON.stringify(payload));
  });
}

async function bareGit(world, run) {
  const dir = await mkdtemp(join(tmpdir(), 'viberator-bench-bare-'));
  const header = `Authorization: Basic ${Buffer.from(`x-access-token:${world.credentials.githubToken}`).toString('base64')}`;
  const env = {
    PATH: process.env.PATH,
    HOME: dir,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_TERMINAL_PROMPT: '0',
    GIT_CONFIG_COUNT: '1',
    GIT_CONFIG_KEY_0: `http.${new URL(world.repoUrl).origin}/.extraHeader`,
    GIT_CONFIG_VALUE_0: header,
    GIT_AUTHOR_NAME: 'Bench',
    GIT_AUTHOR_EMAIL: 'bench@example.invalid',
    GIT_COMMITTER_NAME: 'Bench',
    GIT_COMMITTER_EMAIL: 'bench@example.invalid',
  };
  const started = performance.now();
  await exec(
    'git',
    ['clone', '--quiet', '--depth', '1', '--branch', 'main', world.repoUrl, join(dir, 'repo')],
    { env },
  );
  await exec('git', ['-C', join(dir, 'repo'), 'checkout', '--quiet', '-b', `bare/${run}`], { env });
  await writeFile(join(dir, 'repo', 'bare.txt'), 'bare\n');
  await exec('git', ['-C', join(dir, 'repo'), 'add', '-A'], { env });
  await exec('git', ['-C', join(dir, 'repo'), 'commit', '--quiet', '-m', 'bare'], { env });
  await exec(
    'git',
    ['-C', join(dir, 'repo'), 'push', '--quiet', 'origin', `HEAD:refs/heads/bare/${run}`],
    { env },
  );
  await rm(dir, { recursive: true, force: true });
  return performance.now() - started;
}

async function measure(label, fileCount) {
  const credentials = {
    githubToken: `ghs_bench${randomBytes(8).toString('hex')}`,
    anthropicKey: `sk-ant-bench${randomBytes(8).toString('hex')}`,
  };
  const world = await startLocalWorld({ credentials, fileCount });
  const workRoot = await mkdtemp(join(tmpdir(), 'viberator-bench-work-'));
  const env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    VIBERATOR_WORK_ROOT: workRoot,
    GITHUB_API_URL: world.github.apiUrl,
    ANTHROPIC_API_KEY: credentials.anthropicKey,
    GITHUB_TOKEN: credentials.githubToken,
  };
  const overheads = [];
  const cores = [];
  const bares = [];
  try {
    // One warm-up of each, so the page cache is equally warm for both.
    await bareGit(world, 'warmup');
    for (let run = 0; run < RUNS; run += 1) {
      const payload = {
        version: 1,
        jobId: `bench_${run}`,
        template: 'ticket_developing',
        prompt: PROMPT,
        project: { id: 'bench' },
        ticket: { id: `t${run}`, key: `BENCH-${run}`, title: 'Benchmark' },
        repository: { url: world.repoUrl },
        clanker: { id: 'clk_bench', name: 'bench', agent: 'claude-code', baseUrl: world.model.url },
        secrets: [{ name: 'ANTHROPIC_API_KEY' }, { name: 'GITHUB_TOKEN' }],
      };
      await exec('sync');
      const job = await runJob(env, payload);
      overheads.push(job.wall - job.agent);
      cores.push(job.core - job.agent);
      await exec('sync');
      bares.push(await bareGit(world, run));
    }
  } finally {
    await world.close();
    await rm(workRoot, { recursive: true, force: true });
  }
  const overhead = median(overheads);
  const bare = median(bares);
  const budget = 1.2 * bare + 300;
  const row = [
    label.padEnd(22),
    `${overhead.toFixed(0)} ms`.padStart(9),
    `${median(cores).toFixed(0)} ms`.padStart(9),
    `${bare.toFixed(0)} ms`.padStart(9),
    `${(overhead / bare).toFixed(2)}x`.padStart(7),
    `${budget.toFixed(0)} ms`.padStart(9),
    overhead <= budget ? 'PASS' : 'FAIL',
  ];
  console.log(row.join('  '));
  return overhead <= budget;
}

console.log(`worker overhead vs bare git — medians of ${RUNS} runs (node ${process.version})`);
// The jobs run with the worker's isolation as this host allows it (as root: the agent user).
const doctor = await exec(process.execPath, [cli, 'doctor'], {
  env: { PATH: process.env.PATH },
}).catch((error) => error);
console.log(
  String(doctor.stdout ?? '')
    .split('\n')
    .find((line) => line.startsWith('isolation:')) ?? 'isolation: ?',
);
console.log(
  [
    'repository'.padEnd(22),
    'overhead'.padStart(9),
    'in-core'.padStart(9),
    'bare git'.padStart(9),
    'ratio'.padStart(7),
    'budget'.padStart(9),
    'verdict',
  ].join('  '),
);
console.log(
  '  overhead = CLI process wall − agent wall; in-core = Result.durationMs − agentDurationMs; budget = 1.2 × bare + 300 ms',
);
const small = await measure('small (2 files)', 0);
const large = await measure('generated (50,000)', 50_000);
process.exitCode = small && large ? 0 : 1;
