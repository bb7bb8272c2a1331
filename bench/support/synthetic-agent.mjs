// A synthetic agent CLI for bench/agents.mjs: writes `--bytes` of an agent's machine-readable
// output to stdout as fast as the pipe takes it. The lines are the agent's own recorded
// fixture lines (test/fixtures/agents/<slug>/*.jsonl), each with its longest string grown by
// 0–2,000 characters of tool-output-like text; one line in 500 carries a planted secret, which
// the pipeline must redact.
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
const FILLER = Array.from({ length: 64 }, (_, i) =>
  `src/module-${i}.ts:${i * 7}: expected value to equal fixture output line ${i} `.repeat(40),
);

const total = Number(values.bytes);
let written = 0;
let n = 0;
function pump() {
  while (written < total) {
    let chunk = '';
    for (let i = 0; i < 256; i++, n++) {
      let grow = FILLER[n % 64].slice(0, Math.floor(random() * 2000));
      if (n % 500 === 0) grow += ` token=${values.secret} `;
      // JSON-safe: the filler has no quotes or backslashes.
      chunk += `${templates[n % templates.length].replace(JSON.stringify(PLACEHOLDER).slice(1, -1), grow)}\n`;
    }
    written += Buffer.byteLength(chunk);
    if (!process.stdout.write(chunk)) {
      process.stdout.once('drain', pump);
      return;
    }
  }
}
pump();
