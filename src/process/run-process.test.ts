import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runProcess } from './run-process.js';

const fixture = (name: string) =>
  resolve(import.meta.dirname, '../../test/fixtures/processes', name);
const base = { cwd: process.cwd(), env: { PATH: process.env.PATH ?? '' } };
const limits = { wallClockMs: 30_000, inactivityMs: 30_000, killGraceMs: 500 };

/** Running, or at least not yet a zombie (an orphaned zombie may wait for a reaper). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Whether the process is gone within a second (a SIGKILL is delivered, not awaited). */
async function goneSoon(pid: number): Promise<boolean> {
  for (let i = 0; i < 20 && alive(pid); i++) await new Promise((r) => setTimeout(r, 50));
  return !alive(pid);
}

describe('runProcess (real child processes)', () => {
  it('feeds stdin, splits lines, reports the exit code', async () => {
    const lines: Array<[string, string]> = [];
    const outcome = await runProcess(
      { ...base, file: process.execPath, args: [fixture('echo-stdin.mjs')], stdin: 'one\ntwo\n' },
      limits,
      (line, stream) => lines.push([stream, line]),
    );
    expect(outcome.exitCode).toBe(3);
    expect(outcome.stoppedBy).toBeUndefined();
    expect(lines.filter(([stream]) => stream === 'stdout').map(([, line]) => line)).toEqual([
      'got: one',
      'got: two',
      'no trailing newline',
    ]);
    expect(lines.find(([stream]) => stream === 'stderr')?.[1]).toHaveLength(100_000);
  });

  it('stops a process group that ignores SIGTERM at the wall clock, grandchildren too', async () => {
    let grandchild = 0;
    const outcome = await runProcess(
      { ...base, file: process.execPath, args: [fixture('ignore-sigterm.mjs')] },
      { ...limits, wallClockMs: 1000 },
      (line) => {
        const match = /grandchild (\d+)/.exec(line);
        if (match) grandchild = Number(match[1]);
      },
    );
    expect(outcome.stoppedBy).toBe('wall_clock');
    expect(outcome.signal).toBe('SIGKILL');
    expect(grandchild).toBeGreaterThan(0);
    expect(await goneSoon(grandchild)).toBe(true);
  });

  it('output keeps a process alive; silence stops it', async () => {
    const started = Date.now();
    const lines: string[] = [];
    const outcome = await runProcess(
      { ...base, file: process.execPath, args: [fixture('chatty-then-silent.mjs')] },
      { ...limits, inactivityMs: 800 },
      (line) => lines.push(line),
    );
    expect(outcome.stoppedBy).toBe('inactivity');
    expect(lines).toHaveLength(5);
    // Five ticks 200 ms apart (1 s) outlast the 800 ms limit only because each resets it;
    // the stop comes 800 ms after the last one.
    expect(Date.now() - started).toBeGreaterThan(1700);
  });

  it('an abort signal stops it as "aborted"', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 300);
    const outcome = await runProcess(
      { ...base, file: process.execPath, args: [fixture('chatty-then-silent.mjs')] },
      { ...limits, signal: controller.signal },
      () => {},
    );
    expect(outcome.stoppedBy).toBe('aborted');
    expect(outcome.signal).toBe('SIGTERM');
  });

  it('a stop by the abort signal kills after abortGraceMs, not the longer kill grace', async () => {
    const controller = new AbortController();
    let aborted = 0;
    const outcome = await runProcess(
      { ...base, file: process.execPath, args: [fixture('ignore-sigterm.mjs')] },
      { ...limits, killGraceMs: 20_000, abortGraceMs: 500, signal: controller.signal },
      (line) => {
        if (/grandchild \d+/.test(line) && !aborted) {
          aborted = Date.now();
          controller.abort();
        }
      },
    );
    expect(outcome.stoppedBy).toBe('aborted');
    expect(outcome.signal).toBe('SIGKILL');
    expect(Date.now() - aborted).toBeLessThan(3000);
  });

  it('a limit (not an abort) keeps the full kill grace', async () => {
    const started = Date.now();
    const outcome = await runProcess(
      { ...base, file: process.execPath, args: [fixture('ignore-sigterm.mjs')] },
      { ...limits, wallClockMs: 300, killGraceMs: 1500, abortGraceMs: 100 },
      () => {},
    );
    expect(outcome.stoppedBy).toBe('wall_clock');
    expect(outcome.signal).toBe('SIGKILL');
    expect(Date.now() - started).toBeGreaterThanOrEqual(1800);
  });

  it('a missing executable is a spawn error, not a crash', async () => {
    const outcome = await runProcess(
      { ...base, file: '/nonexistent/agent', args: [] },
      limits,
      () => {},
    );
    expect(outcome.spawnError?.code).toBe('ENOENT');
  });
});

describe('runProcess: the run ends with the main process', () => {
  it('a finished process whose child holds stdout open ends after the drain, not at the inactivity limit', async () => {
    let child = 0;
    const started = Date.now();
    const outcome = await runProcess(
      { ...base, file: process.execPath, args: [fixture('exit-leaving-child.mjs')] },
      { ...limits, inactivityMs: 20_000, drainMs: 300 },
      (line) => {
        const match = /child (\d+)/.exec(line);
        if (match) child = Number(match[1]);
      },
    );
    expect(outcome.stoppedBy).toBeUndefined();
    expect(outcome.exitCode).toBe(0);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(child).toBeGreaterThan(0);
    expect(await goneSoon(child)).toBe(true);
  });
});
