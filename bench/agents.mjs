// Agents: what the worker costs around each real agent CLI, and how fast it digests output.
//
// Part 1 (per agent whose CLI is installed): the bare CLI run through its adapter (the same
// command, config and environment a worker uses) against the scripted model, writing one file
// — beside the same change as a full job through the built worker (`dist/cli.js run`: clone
// from the token-checking git server, the CLI as the agent user, commit, push, PR on the
// GitHub stand-in). Median wall time of `--runs` each, and the ratio worker / bare.
//
// Part 2: the event pipeline on a synthetic agent stream: a separate process writes `--gb` GiB
// of an agent's own output lines (its recorded fixture lines, grown to tool-output sizes; a
// planted secret in one line of 500) as fast as the pipe takes them; this process runs the
// worker's pipeline on it — runProcess line splitting → redaction of each raw line → the
// agent's parser → EventStream (numbering, redaction) → a listener that serializes every
// event as delivery would and checks it for the secret. Figures: lines/s, MB/s, events, peak
// RSS of this process (sampled every 50 ms), leaks. Targets (issue): ≥ 50,000 lines/s, peak
// RSS ≤ 120 MB, no leak. Run it with 2 MB semi-spaces, as the worker's CLI runs.
//
// Usage: npm run bench:agents [-- --runs 3 --gb 1 --stream-agent claude-code --skip-cli]
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  allAdapters,
  createAgentSandbox,
  EventStream,
  Redactor,
  recordingProfile,
  redactingParser,
  runProcess,
  startLocalWorld,
} from '../build/dev/bench-agents.js';

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    gb: { type: 'string', default: '1' },
    'stream-agent': { type: 'string', default: 'all' },
    'skip-cli': { type: 'boolean', default: false },
    'skip-stream': { type: 'boolean', default: false },
  },
});
const RUNS = Number(args.runs);
const cli = resolve(import.meta.dirname, '../dist/cli.js');
const FIXTURES = resolve(import.meta.dirname, '../test/fixtures/agents');
const TARGET = { linesPerSecond: 50_000, rssMb: 120 };
const PROMPT = '[[write bench/result.txt]]\nbenchmarked\n[[end]]\n[[answer]]\nDone.\n[[end]]\n';

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

function spawnTimed(file, argv, options, stdin) {
  return new Promise((done, fail) => {
    const started = performance.now();
    const child = spawn(file, argv, { ...options, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => {
      stdout += c;
    });
    child.stderr.on('data', (c) => {
      stderr += c;
    });
    child.on('error', fail);
    child.on('close', (code) => done({ ms: performance.now() - started, code, stdout, stderr }));
    child.stdin.end(stdin ?? '');
  });
}

async function cliPart() {
  const credentials = {
    githubToken: 'ghs_bench_token_0123456789',
    anthropicKey: 'sk-bench-model-key-0123',
  };
  const world = await startLocalWorld({ credentials });
  const rows = [];
  try {
    let job = 0;
    for (const adapter of allAdapters()) {
      const profile = recordingProfile(adapter.slug, FIXTURES);
      // A fake CLI named relative to the repository (Vibe's) must stay found from the checkout.
      const profileEnv = Object.fromEntries(
        Object.entries(profile?.env ?? {}).map(([k, v]) => [
          k,
          k.startsWith('VIBERATOR_AGENT_BIN_') ? resolve(v) : v,
        ]),
      );
      if (!profile) {
        rows.push({ agent: adapter.slug, note: 'no recording profile' });
        continue;
      }
      const baseUrl = `${world.model.url}${profile.baseUrlSuffix ?? ''}`;
      const keyName = adapter.modelKeys({ model: profile.model })[0];
      const bare = [];
      const worker = [];
      let note = '';
      try {
        for (let i = 0; i < RUNS; i++) {
          const sandbox = await createAgentSandbox(adapter, {
            prompt: PROMPT,
            key: credentials.anthropicKey,
            keyName,
            baseUrl,
            model: profile.model,
            env: profileEnv,
          });
          try {
            const { command } = sandbox;
            const run = await spawnTimed(
              command.file,
              command.args,
              { cwd: command.cwd, env: command.env },
              command.stdin,
            );
            if (run.code !== 0)
              throw new Error(`bare ${adapter.slug} exited ${run.code}: ${run.stderr.slice(-300)}`);
            bare.push(run.ms);
          } finally {
            await sandbox.remove();
          }
          const payload = {
            version: 1,
            jobId: `bench_${adapter.slug.replace(/-/g, '_')}_${job++}`,
            template: 'ticket_developing',
            prompt: PROMPT,
            project: { id: 'bench', workerSettings: { maxExecutionTime: 300 } },
            ticket: { id: 't1', key: `BENCH-${job}`, title: 'Benchmark' },
            repository: { url: world.repoUrl, baseBranch: 'main' },
            clanker: {
              id: 'clk_bench',
              name: 'bench',
              agent: adapter.slug,
              model: profile.model,
              baseUrl,
            },
            secrets: [{ name: keyName }, { name: 'GITHUB_TOKEN' }],
          };
          const env = {
            PATH: process.env.PATH,
            HOME: process.env.HOME,
            LANG: 'C.UTF-8',
            VIBERATOR_WORK_ROOT: `/tmp/viberator-bench-agents`,
            GITHUB_API_URL: world.github.apiUrl,
            GITHUB_TOKEN: credentials.githubToken,
            [keyName]: credentials.anthropicKey,
            ...profileEnv,
          };
          const run = await spawnTimed(
            process.execPath,
            [cli, 'run', '--payload', '-'],
            { env },
            JSON.stringify(payload),
          );
          if (run.code !== 0)
            throw new Error(`job with ${adapter.slug} failed: ${run.stdout.slice(0, 400)}`);
          worker.push(run.ms);
        }
      } catch (error) {
        note = String(error.message ?? error)
          .split('\n')[0]
          .slice(0, 160);
      }
      rows.push(
        bare.length === RUNS && worker.length === RUNS
          ? { agent: adapter.slug, bare: median(bare), worker: median(worker) }
          : { agent: adapter.slug, note },
      );
    }
  } finally {
    await world.close();
  }
  console.log(`\nPart 1 — bare CLI vs the same job through the worker (median of ${RUNS})`);
  console.log('agent          bare CLI    worker job   ratio');
  for (const row of rows) {
    if (row.note) console.log(`${row.agent.padEnd(14)} skipped: ${row.note}`);
    else
      console.log(
        `${row.agent.padEnd(14)} ${`${Math.round(row.bare)} ms`.padStart(9)}   ${`${Math.round(row.worker)} ms`.padStart(10)}   ${(row.worker / row.bare).toFixed(2)}×`,
      );
  }
}

async function streamOne(slug, bytes) {
  const adapter = allAdapters().find((a) => a.slug === slug);
  const secret = `sk-bench-secret-${'x7Q'.repeat(8)}`;
  const redactor = new Redactor();
  redactor.add(secret);
  redactor.add('ghs_another_planted_token_0123456789');
  redactor.add('correct-horse-battery-staple-42');
  const events = new EventStream(redactor, () => {});
  let eventCount = 0;
  let leaks = 0;
  let serialized = 0;
  events.subscribe((event) => {
    eventCount++;
    const json = JSON.stringify(event);
    serialized += json.length;
    if (json.includes(secret)) leaks++;
  });
  const parser = redactingParser(adapter.createParser(), (text) => redactor.text(text));
  let lines = 0;
  let peakRss = process.memoryUsage.rss();
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage.rss());
  }, 50);
  const started = performance.now();
  const outcome = await runProcess(
    {
      file: process.execPath,
      args: [
        resolve(import.meta.dirname, 'support/synthetic-agent.mjs'),
        '--slug',
        slug,
        '--bytes',
        String(bytes),
        '--secret',
        secret,
      ],
      cwd: process.cwd(),
      env: { PATH: process.env.PATH ?? '' },
    },
    { wallClockMs: 3_600_000, inactivityMs: 60_000, killGraceMs: 1_000 },
    (line, stream) => {
      lines++;
      for (const event of parser.line(line, stream)) events.emit(event);
    },
  );
  for (const event of parser.end({ code: outcome.exitCode, signal: outcome.signal }).events)
    events.emit(event);
  const seconds = (performance.now() - started) / 1000;
  clearInterval(sampler);
  peakRss = Math.max(peakRss, process.memoryUsage.rss());
  return { slug, lines, seconds, bytes, eventCount, leaks, peakRss, serialized };
}

async function streamPart() {
  const gib = Number(args.gb);
  const slugs =
    args['stream-agent'] === 'all'
      ? allAdapters().map((a) => a.slug)
      : args['stream-agent'].split(',');
  console.log(
    `\nPart 2 — the event pipeline on ${gib} GiB of synthetic output per agent (node ${process.version}, semi-space ${process.execArgv.join(' ') || 'default'})`,
  );
  console.log('agent          lines        lines/s     MB/s    events      peak RSS   leaks');
  let worst = { linesPerSecond: Number.POSITIVE_INFINITY, rssMb: 0, leaks: 0 };
  for (const slug of slugs) {
    const r = await streamOne(slug, Math.round(gib * 1024 ** 3));
    const perSecond = r.lines / r.seconds;
    const rssMb = r.peakRss / 1024 ** 2;
    worst = {
      linesPerSecond: Math.min(worst.linesPerSecond, perSecond),
      rssMb: Math.max(worst.rssMb, rssMb),
      leaks: worst.leaks + r.leaks,
    };
    console.log(
      `${slug.padEnd(14)} ${String(r.lines).padStart(9)}   ${Math.round(perSecond).toString().padStart(9)}   ${(r.bytes / 1024 ** 2 / r.seconds).toFixed(0).padStart(5)}   ${String(r.eventCount).padStart(9)}   ${rssMb.toFixed(0).padStart(6)} MB   ${r.leaks}`,
    );
    if (global.gc) global.gc();
  }
  const pass =
    worst.linesPerSecond >= TARGET.linesPerSecond &&
    worst.rssMb <= TARGET.rssMb &&
    worst.leaks === 0;
  console.log(
    `slowest ${Math.round(worst.linesPerSecond)} lines/s (target ≥ ${TARGET.linesPerSecond}), peak RSS ${worst.rssMb.toFixed(0)} MB (target ≤ ${TARGET.rssMb}), leaks ${worst.leaks}: ${pass ? 'PASS' : 'FAIL'}`,
  );
  return pass;
}

if (!args['skip-cli']) await cliPart();
const ok = args['skip-stream'] ? true : await streamPart();
process.exit(ok ? 0 : 1);
