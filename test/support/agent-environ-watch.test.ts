import { spawn } from 'node:child_process';
import { mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { watchAgentEnviron } from './agent-environ-watch.js';
import { tempDir } from './run-cli.js';
import { scanFilesFor } from './scan-files.js';

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

function sleeper(env: Record<string, string>, seconds = 2) {
  const child = spawn('sleep', [String(seconds)], { env: { PATH: process.env.PATH, ...env } });
  cleanups.push(() => child.kill('SIGKILL'));
  return child;
}

describe('watchAgentEnviron', () => {
  it('sees processes carrying the agent marker, with their environment and argv', async () => {
    const watch = watchAgentEnviron({ filter: (p) => p.env.JOB_TAG === 'mine' });
    const agent = sleeper({ VIBERATOR_AGENT_RUN: 'abc', JOB_TAG: 'mine', SOME_KEY: 'k1' });
    sleeper({ VIBERATOR_AGENT_RUN: 'def', JOB_TAG: 'other' });
    sleeper({ JOB_TAG: 'mine' });
    await new Promise((r) => setTimeout(r, 300));
    const seen = await watch.stop();
    expect(seen.map((p) => p.pid)).toEqual([agent.pid]);
    expect(seen[0]?.argv).toEqual(['sleep', '2']);
    expect(seen[0]?.env).toMatchObject({ VIBERATOR_AGENT_RUN: 'abc', SOME_KEY: 'k1' });
  });

  it('takes one last look when stopped', async () => {
    const watch = watchAgentEnviron({ intervalMs: 10_000 });
    const child = sleeper({ VIBERATOR_AGENT_RUN: 'late' });
    await new Promise((r) => setTimeout(r, 100));
    // stop() takes one last look: the sleeper is still alive then.
    const seen = await watch.stop();
    expect(seen.some((p) => p.pid === child.pid)).toBe(true);
  });
});

describe('scanFilesFor', () => {
  it('finds a needle in nested regular files and does not follow links', async () => {
    const root = await tempDir('scan-files-');
    cleanups.push(() => rm(root, { recursive: true, force: true }));
    const outside = await tempDir('scan-files-outside-');
    cleanups.push(() => rm(outside, { recursive: true, force: true }));
    await writeFile(join(outside, 'secret.txt'), 'NEEDLE-123');
    await mkdir(join(root, 'a/b'), { recursive: true });
    await writeFile(join(root, 'a/b/config.json'), '{"key":"NEEDLE-123"}');
    await writeFile(join(root, 'clean.txt'), 'nothing');
    await writeFile(
      join(root, 'a/bin.dat'),
      Buffer.concat([Buffer.from([0, 1, 2]), Buffer.from('NEEDLE-123')]),
    );
    await symlink(outside, join(root, 'link'));
    const scan = await scanFilesFor(root, 'NEEDLE-123');
    expect(scan.files).toBe(3);
    expect(scan.hits.sort()).toEqual([join(root, 'a/b/config.json'), join(root, 'a/bin.dat')]);
  });
});
