// A synthetic agent CLI for bench/agents.mjs: writes `--bytes` of an agent's machine-readable
// output to stdout as fast as the pipe takes it. The lines are the agent's own recorded
// fixture lines (test/fixtures/agents/<slug>/*.jsonl), each with its longest string grown by
// 0–2,000 characters of tool-output-like text; one line in 500 carries a planted secret, which
// the pipeline must redact. The stream is a 32 MB pool of such lines, repeated.
//
// Usage: node synthetic-agent.mjs --slug claude-code --bytes 1073741824 --secret S
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: { slug: { type: 'string' }, bytes: { type: 'string' }, secret: { type: 'string' } },
});
const dir = join(import.meta.dirname, '../../test/fixtures/agents', values.slug);
const PLACEHOLDER = '\u0000GROW\u0000';

/** Each fixture line with a placeholder at the end of its longest string. */
const templates = [];
for (const file of readdirSync(dir).filter((f) => f.endsWith('.jsonl'))) {
  for (const line of readFileSync(join(dir, file), 'utf8').split('\n')) {
    let json;
    try {
      json = JSON.parse(line);
    } catch {
      continue;
    }
    let longest;
    const visit = (value, set) => {
      if (typeof value === 'string') {
        if (!longest || value.length > longest.value.length) longest = { value, set };
      } else if (value && typeof value === 'object') {
        for (const key of Object.keys(value)) visit(value[key], (v) => (value[key] = v));
      }
    };
    visit(json, () => {});
    if (longest) longest.set(longest.value + PLACEHOLDER);
    templates.push(JSON.stringify(json));
  }
}
if (templates.length === 0) throw new Error(`no fixture lines for ${values.slug}`);

let seed = 0x2545f491;
const random = () => {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) / 0x1_0000_0000;
};
// Tool-output-like text: lines of 60–70 characters, JSON-escaped newlines between them.
const FILLER = Array.from({ length: 64 }, (_, i) =>
  Array.from(
    { length: 40 },
    (_, j) => `src/module-${i}.ts:${i * 7 + j}: expected value to equal fixture output line ${j}`,
  ).join('\\n'),
);

// The lines are made once, into a pool of chunks written in turn: building them while the
// pipe is full would leave the reader idle and measure this generator instead of the worker.
const POOL_BYTES = 32 * 1024 * 1024;
const pool = [];
let pooled = 0;
for (let n = 0; pooled < POOL_BYTES; ) {
  let chunk = '';
  for (let i = 0; i < 32; i++, n++) {
    // Never end on half an escape: a lone backslash would break the line's JSON.
    let grow = FILLER[n % 64].slice(0, Math.floor(random() * 2000)).replace(/\\$/, '');
    if (n % 500 === 0) grow += ` token=${values.secret} `;
    // JSON-safe: the filler has no quotes, and its only backslashes are the \\n escapes.
    chunk += `${templates[n % templates.length].replace(JSON.stringify(PLACEHOLDER).slice(1, -1), grow)}\n`;
  }
  const buffer = Buffer.from(chunk);
  pool.push(buffer);
  pooled += buffer.length;
}

const total = Number(values.bytes);
let written = 0;
let next = 0;
function pump() {
  while (written < total) {
    const chunk = pool[next++ % pool.length];
    written += chunk.length;
    if (!process.stdout.write(chunk)) {
      process.stdout.once('drain', pump);
      return;
    }
  }
}
pump();
