// Event delivery under load: an agent emitting 200,000 events against a platform that answers
// in 200 ms. Targets (issue): ≤ 2 callback requests/s steady, delivery lag after the agent
// exits ≤ 1 s, peak RSS ≤ 120 MB; besides, at most one request in flight, no secret reaching
// the platform and no seq missing without a drop notice declaring it.
//
// One Node process runs the real pipeline: EventStream (numbering, redaction by a Redactor
// holding three secrets) → EventDelivery (real HTTP through PlatformClient) → the platform
// stand-in on 127.0.0.1 with `delay('events', 200)` and `delay('result', 200)`.
//
// The agent's shape: `--duration` seconds (default 20) in ticks of 100 ms. Each tick is a burst
// of whole "turns" — agent.message (~300 chars), agent.tool_call, agent.tool_result (~1 KiB of
// output; every 400th carries a secret, which must arrive redacted) and agent.usage — with an
// info `log` every 50 turns. Burst sizes vary 0.5–1.5× the mean, and every 3 s the agent goes
// quiet for 500 ms (waiting for the model). Status events frame the run (received …
// running_agent started, then running_agent completed as its last event: the agent exits).
//
// Figures: requests/s = POSTs to /events the stand-in received between 1 s after the first
// event and the last event, per second (the flush after the exit is unpaced by design and not
// counted); the busiest 1-s bucket is shown besides. Lag = from the last event emitted until
// `flush()` resolves drained (everything delivered, or declared dropped). Peak RSS = the max of
// process.memoryUsage.rss() sampled every 50 ms; it includes the stand-in, whose records the
// bench drains into counters every 50 ms so that they do not pile up.
//
// Usage: npm run bench:events [-- --events 200000 --duration 20]
//   EventDelivery options, to try other settings: --max-batch N --max-batch-bytes N
//   --flush-ms N --max-queued N (bytes may be written as 4MiB).
import { parseArgs } from 'node:util';
import {
  EventDelivery,
  EventStream,
  PlatformClient,
  Redactor,
  startPlatformStandIn,
} from '../build/dev/bench-events.js';

const { values: args } = parseArgs({
  options: {
    events: { type: 'string', default: '200000' },
    duration: { type: 'string', default: '20' },
    'max-batch': { type: 'string' },
    'max-batch-bytes': { type: 'string' },
    'flush-ms': { type: 'string' },
    'max-queued': { type: 'string' },
  },
});

const TOTAL = Number(args.events);
const DURATION_MS = Number(args.duration) * 1000;
const TICK_MS = 100;
const PLATFORM_MS = 200;
const TARGET = { requestsPerSecond: 2, lagMs: 1000, rssMb: 120 };

function size(text) {
  const match = /^(\d+(?:\.\d+)?)\s*(KiB|MiB)?$/i.exec(text);
  if (!match) throw new Error(`not a size: ${text}`);
  const unit = { kib: 1024, mib: 1024 * 1024 }[match[2]?.toLowerCase()] ?? 1;
  return Math.round(Number(match[1]) * unit);
}

const deliveryOptions = {};
if (args['max-batch']) deliveryOptions.maxBatch = Number(args['max-batch']);
if (args['max-batch-bytes']) deliveryOptions.maxBatchBytes = size(args['max-batch-bytes']);
if (args['flush-ms']) deliveryOptions.flushMs = Number(args['flush-ms']);
if (args['max-queued']) deliveryOptions.maxQueued = Number(args['max-queued']);

// A small deterministic PRNG: every run emits the same events.
let state = 0x9e3779b9;
function random() {
  state ^= state << 13;
  state ^= state >>> 17;
  state ^= state << 5;
  return (state >>> 0) / 0x1_0000_0000;
}

const SECRETS = {
  github: `ghs_${'Ab3xQ9'.repeat(6)}`,
  anthropic: `sk-ant-api03-${'k7Pz'.repeat(20)}`,
  database: 'correct-horse-battery-staple-42',
};

const WORDS =
  'the worker clones the repository runs the agent commits pushes and opens a pull request for ticket with tests passing in src core platform events delivery batch queue'.split(
    ' ',
  );
function prose(length) {
  let text = '';
  while (text.length < length) text += `${WORDS[Math.floor(random() * WORDS.length)]} `;
  return text.slice(0, length);
}
function outputOf(length) {
  const lines = [];
  let used = 0;
  while (used < length) {
    const line = `src/${prose(12).trim().replace(/ /g, '/')}.ts:${Math.floor(random() * 900)}: ${prose(50)}`;
    lines.push(line);
    used += line.length + 1;
  }
  return lines.join('\n').slice(0, length);
}
// A pool of texts, so emitting stays as cheap as an agent's parser handing events on.
const MESSAGES = Array.from({ length: 64 }, () => prose(200 + Math.floor(random() * 200)));
const OUTPUTS = Array.from({ length: 64 }, () => outputOf(900 + Math.floor(random() * 250)));
const TOOLS = [
  { name: 'Bash', kind: 'command', input: (n) => ({ command: `npm test -- --run case-${n}` }) },
  { name: 'Read', kind: 'read', input: (n) => ({ file_path: `/work/repo/src/module-${n}.ts` }) },
  { name: 'Edit', kind: 'edit', input: (n) => ({ file_path: `src/m${n}.ts`, old: 'a', new: 'b' }) },
  { name: 'Grep', kind: 'search', input: (n) => ({ pattern: `symbol${n}`, path: 'src' }) },
];

/** Turn `n` as event bodies: message, tool call, tool result, usage (and a log now and then). */
function turn(n) {
  const tool = TOOLS[n % TOOLS.length];
  const id = `toolu_${n.toString(36).padStart(8, '0')}`;
  let output = `${n}: ${OUTPUTS[n % OUTPUTS.length]}`;
  if (n % 400 === 0) output += `\nGITHUB_TOKEN=${SECRETS.github} DATABASE=${SECRETS.database}`;
  const bodies = [
    { type: 'agent.message', role: 'assistant', text: MESSAGES[n % MESSAGES.length] },
    { type: 'agent.tool_call', id, name: tool.name, kind: tool.kind, input: tool.input(n) },
    { type: 'agent.tool_result', id, ok: n % 17 !== 0, output },
    {
      type: 'agent.usage',
      inputTokens: 1200 + (n % 300),
      outputTokens: 80 + (n % 40),
      cacheReadTokens: 9000,
      costUsd: 0.0031,
    },
  ];
  if (n % 50 === 49) bodies.push({ type: 'log', level: 'info', message: `turn ${n} done` });
  return bodies;
}

const STATUS_BEFORE = [
  'received',
  'resolving_config',
  'fetching_credentials',
  'initialising_agent',
  'cloning',
];

/** Events per tick: 0.5–1.5× the mean, 500 ms quiet every 3 s, summing to `total`. */
function schedule(total) {
  const ticks = Math.max(1, Math.round(DURATION_MS / TICK_MS));
  const quietEvery = 3000 / TICK_MS;
  const quietFor = 500 / TICK_MS;
  const weights = Array.from({ length: ticks }, (_, i) =>
    i % quietEvery >= quietEvery - quietFor && i < ticks - 1 ? 0 : 0.5 + random(),
  );
  const sum = weights.reduce((a, b) => a + b, 0);
  const sizes = weights.map((w) => Math.floor((total * w) / sum));
  sizes[ticks - 1] += total - sizes.reduce((a, b) => a + b, 0);
  return sizes;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// --- the platform, and what it received ------------------------------------------------------

const token = 'bench-token-0123456789';
const jobId = 'job_bench_events';
const platform = await startPlatformStandIn({ token, jobId });
platform.delay('events', PLATFORM_MS);
platform.delay('result', PLATFORM_MS);

const seen = new Uint8Array(TOTAL + 1); // 1 received, 2 declared dropped
let received = 0;
let duplicates = 0;
let notices = 0;
let merged = 0;
let dropped = 0;
let leaks = 0;
let redactions = 0;
const spans = [];
/** Each POST to /events: when it arrived, how many events, the status answered. */
const posts = [];
let unanswered = [];

function drainPlatform() {
  for (const event of platform.events.splice(0)) {
    received += 1;
    if (seen[event.seq] === 1) duplicates += 1;
    seen[event.seq] = 1;
    if (event.type === 'log' && event.dropped) {
      notices += 1;
      spans.push(event.dropped);
      for (const [type, n] of Object.entries(event.dropped.types)) {
        if (type === 'agent.usage') merged += n;
        else dropped += n;
      }
    }
    if (event.type === 'agent.tool_result') {
      if (event.output.includes('[REDACTED]')) redactions += 1;
      for (const secret of Object.values(SECRETS)) if (event.output.includes(secret)) leaks += 1;
    }
  }
  const open = [...unanswered, ...platform.requests.splice(0)];
  unanswered = [];
  for (const request of open) {
    if (request.route !== 'events') continue;
    // Kept only while it waits for its answer (its body holds the batch).
    if (request.status === undefined) unanswered.push(request);
    else posts.push({ at: request.at, events: request.body?.events?.length ?? 0 });
  }
}

// --- peak RSS --------------------------------------------------------------------------------

let peakRss = process.memoryUsage.rss();
const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage.rss());
  drainPlatform();
}, 50);

// --- the pipeline ----------------------------------------------------------------------------

const redactor = new Redactor();
for (const secret of Object.values(SECRETS)) redactor.add(secret);
const stream = new EventStream(redactor);
const logged = { error: 0, warn: 0, info: 0, debug: 0 };
const delivery = new EventDelivery({
  client: new PlatformClient({ baseUrl: platform.url, token }),
  jobId,
  log: (level) => {
    logged[level] += 1;
  },
  ...deliveryOptions,
});
stream.subscribe(delivery.onEvent);

// --- the agent -------------------------------------------------------------------------------

const FRAME = 2 * STATUS_BEFORE.length + 2; // status events around the agent's own
const sizes = schedule(TOTAL - FRAME);
const startedAt = performance.now();
const startedWall = Date.now();
for (const step of STATUS_BEFORE) {
  stream.emit({ type: 'status', step, state: 'started' });
  stream.emit({ type: 'status', step, state: 'completed' });
}
stream.emit({ type: 'status', step: 'running_agent', state: 'started' });
let left = TOTAL - FRAME;
let pendingBodies = [];
let turnNo = 0;
for (let tick = 0; tick < sizes.length; tick += 1) {
  const due = startedAt + tick * TICK_MS;
  const wait = due - performance.now();
  if (wait > 0) await sleep(wait);
  let burst = Math.min(sizes[tick], left);
  if (tick === sizes.length - 1) burst = left;
  for (let i = 0; i < burst; i += 1) {
    if (pendingBodies.length === 0) {
      pendingBodies = turn(turnNo);
      turnNo += 1;
    }
    stream.emit(pendingBodies.shift());
  }
  left -= burst;
}
const lastSeq = stream.emit({ type: 'status', step: 'running_agent', state: 'completed' }).seq;
const exitedAt = performance.now();
const exitedWall = Date.now();
if (lastSeq !== TOTAL) throw new Error(`emitted ${lastSeq} events, meant ${TOTAL}`);

// --- the agent exited: flush ----------------------------------------------------------------

const outcome = await delivery.flush(60_000);
const lagMs = performance.now() - exitedAt;
const stats = delivery.stats();
await delivery.stop();
clearInterval(sampler);
peakRss = Math.max(peakRss, process.memoryUsage.rss());
// The last answers: wait for the stand-in to record them.
for (let i = 0; i < 20 && (unanswered.length > 0 || platform.requests.length > 0); i += 1) {
  drainPlatform();
  await sleep(10);
}
drainPlatform();
await platform.close();

// --- figures ---------------------------------------------------------------------------------

for (const span of spans) {
  for (let seq = span.fromSeq; seq <= span.toSeq; seq += 1) if (seen[seq] === 0) seen[seq] = 2;
}
let lost = 0;
for (let seq = 1; seq <= lastSeq; seq += 1) if (seen[seq] === 0) lost += 1;

const steadyFrom = startedWall + 1000;
const steadyTo = exitedWall;
const steadyPosts = posts.filter((post) => post.at >= steadyFrom && post.at < steadyTo);
const requestsPerSecond = steadyPosts.length / ((steadyTo - steadyFrom) / 1000);
const buckets = new Map();
for (const post of steadyPosts) {
  const bucket = Math.floor((post.at - steadyFrom) / 1000);
  buckets.set(bucket, (buckets.get(bucket) ?? 0) + 1);
}
const busiest = Math.max(0, ...buckets.values());
const afterExit = posts.filter((post) => post.at >= exitedWall).length;
const rssMb = peakRss / (1024 * 1024);
const agentSeconds = (exitedAt - startedAt) / 1000;
const eventsDelivered = received - notices - duplicates;

const optionText = Object.entries(deliveryOptions)
  .map(([key, value]) => `${key}=${value}`)
  .join(' ');
console.log(
  `event delivery: ${TOTAL.toLocaleString('en')} events in ${agentSeconds.toFixed(1)} s ` +
    `(${Math.round(TOTAL / agentSeconds).toLocaleString('en')}/s), platform answers in ${PLATFORM_MS} ms ` +
    `(node ${process.version}); EventDelivery ${optionText || 'defaults'}`,
);
const rows = [
  [
    'requests/s steady',
    `${requestsPerSecond.toFixed(2)}`,
    `≤ ${TARGET.requestsPerSecond}`,
    requestsPerSecond <= TARGET.requestsPerSecond,
  ],
  ['lag after exit', `${lagMs.toFixed(0)} ms`, `≤ ${TARGET.lagMs} ms`, lagMs <= TARGET.lagMs],
  ['peak RSS', `${rssMb.toFixed(1)} MB`, `≤ ${TARGET.rssMb} MB`, rssMb <= TARGET.rssMb],
  [
    'max in flight',
    `${platform.maxInFlightOn('events')}`,
    '= 1',
    platform.maxInFlightOn('events') === 1,
  ],
  ['flush drained', `${outcome.drained}`, '= true', outcome.drained],
  ['seqs lost (undeclared)', `${lost}`, '= 0', lost === 0],
  ['secrets leaked', `${leaks}`, '= 0', leaks === 0],
];
console.log(
  ['figure'.padEnd(24), 'measured'.padStart(10), 'target'.padStart(10), 'verdict'].join('  '),
);
for (const [name, value, target, pass] of rows) {
  console.log(
    [name.padEnd(24), value.padStart(10), target.padStart(10), pass ? 'PASS' : 'FAIL'].join('  '),
  );
}
const pct = (n) => `${((100 * n) / TOTAL).toFixed(1)}%`;
console.log(
  [
    `  delivered ${eventsDelivered.toLocaleString('en')} events (${pct(eventsDelivered)})`,
    `dropped ${dropped.toLocaleString('en')} (${pct(dropped)})`,
    `usage merged ${merged.toLocaleString('en')}`,
    `drop notices ${notices}`,
    `duplicates ${duplicates}`,
    `redacted outputs ${redactions}`,
  ].join(', '),
);
console.log(
  `  POSTs ${posts.length} (${steadyPosts.length} steady, busiest 1-s bucket ${busiest}, ` +
    `${afterExit} after the exit), largest batch ${stats.maxBatchSent}, ` +
    `most waiting ${stats.maxWaiting}, delivery log: ${logged.warn} warn, ${logged.error} error`,
);
process.exitCode = rows.every((row) => row[3]) ? 0 : 1;
