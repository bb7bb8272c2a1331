// The per-job model gateway's cost (issue 9): time to first byte of a small streamed answer
// through the gateway beside the same request made directly (p50, p99 over one run), the
// pass-through throughput of a 50 MB streamed answer, and this process's RSS during it (the
// gateway runs here, as in the worker; upstream and client are processes of their own).
// Targets: ≤ 2 ms added at p50, ≥ 200 MB/s, RSS flat.
//
// Usage: npm run bench:gateway [-- --requests 500]
import { execFile, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { startGateway } from '../build/dev/gateway.js';

const exec = promisify(execFile);
const arg = process.argv.indexOf('--requests');
const N = arg > 0 ? Number(process.argv[arg + 1]) : 500;
const REAL_KEY = 'bench-real-key';
const passArg = process.argv.indexOf('--passes');
const PASSES = passArg > 0 ? Number(process.argv[passArg + 1]) : 5;
const support = resolve(import.meta.dirname, 'support');

const upstream = spawn(process.execPath, [resolve(support, 'gateway-upstream.mjs'), REAL_KEY], {
  stdio: ['ignore', 'pipe', 'inherit'],
});
const upstreamUrl = await new Promise((done) => {
  upstream.stdout.once('data', (c) => done(String(c).trim()));
});
let metered = 0;
const gateway = await startGateway({
  upstream: { baseUrl: upstreamUrl, provider: 'anthropic', key: REAL_KEY },
  onUsage: () => metered++,
});
const client = (...args) =>
  exec(process.execPath, [resolve(support, 'gateway-client.mjs'), ...args], {
    maxBuffer: 64 * 1024 * 1024,
  }).then(({ stdout }) => JSON.parse(stdout));

const pct = (values, p) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
};

try {
  const ttfb = await client('ttfb', upstreamUrl, REAL_KEY, gateway.url, gateway.key, String(N));
  const row = (name, v) =>
    `${name.padEnd(9)} p50 ${pct(v, 50).toFixed(3)} ms   p99 ${pct(v, 99).toFixed(3)} ms`;
  console.log(`Time to first byte, ${N} streamed requests each way (one at a time, keep-alive):`);
  console.log(`  ${row('direct', ttfb.direct)}`);
  console.log(`  ${row('gateway', ttfb.gateway)}`);
  console.log(
    `  added    p50 ${(pct(ttfb.gateway, 50) - pct(ttfb.direct, 50)).toFixed(3)} ms   p99 ${(pct(ttfb.gateway, 99) - pct(ttfb.direct, 99)).toFixed(3)} ms   (target ≤ 2 ms at p50)`,
  );

  // Several passes: flat memory means the peak does not grow with the bytes passed through.
  const direct = await client('big', upstreamUrl, REAL_KEY);
  const mbps = (r) => (r.bytes / 1048576 / r.seconds).toFixed(0);
  console.log(`50 MB streamed answer, direct: ${mbps(direct)} MB/s`);
  const rssBefore = process.memoryUsage().rss;
  let rssPeak = rssBefore;
  const sampler = setInterval(() => {
    rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
  }, 10);
  for (let pass = 1; pass <= PASSES; pass++) {
    const cpu = process.cpuUsage();
    const through = await client('big', gateway.url, gateway.key);
    const { user, system } = process.cpuUsage(cpu);
    const cpuSeconds = (user + system) / 1e6;
    console.log(
      `50 MB streamed answer through the gateway, pass ${pass}: ${mbps(through)} MB/s (target ≥ 200 MB/s); gateway CPU ${cpuSeconds.toFixed(3)} s (${(through.bytes / 1048576 / cpuSeconds).toFixed(0)} MB per CPU second); RSS peak so far ${(rssPeak / 1048576).toFixed(1)} MB (${(rssBefore / 1048576).toFixed(1)} MB before the first pass)`,
    );
  }
  clearInterval(sampler);
  console.log(
    `Answers metered: ${metered} (expected ${N + 20 + PASSES}: warm-up, timed and 50 MB answers)`,
  );
} finally {
  await gateway.close();
  upstream.kill();
}
