#!/usr/bin/env node
// Installs the pinned agent CLIs (agents/package.json and its lockfile) into agents/node_modules
// with `npm ci`, unless that exact lockfile is already installed. The tests run the real CLIs
// from there; the container images install the same directory the same way.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const agents = join(dirname(fileURLToPath(import.meta.url)), '..', 'agents');
const lock = readFileSync(join(agents, 'package-lock.json'));
const digest = createHash('sha256').update(lock).digest('hex');
const stamp = join(agents, 'node_modules', '.viberator-lock-sha256');

if (existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === digest) {
  console.log('agent CLIs: up to date (agents/node_modules)');
} else {
  console.log('agent CLIs: installing the pinned versions into agents/node_modules');
  // `npm install` with the lockfile, not `npm ci`: some CLIs list optional per-platform packages
  // that npm leaves out of the lockfile, which `npm ci` then rejects as out of sync.
  execFileSync(
    'npm',
    ['install', '--no-save', '--no-audit', '--no-fund', '--loglevel=error', '--prefix', agents],
    {
      stdio: 'inherit',
    },
  );
  writeFileSync(stamp, `${digest}\n`);
}
