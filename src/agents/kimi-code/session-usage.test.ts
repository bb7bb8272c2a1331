import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { findAgentFiles } from '../agent-files.js';
import { kimiSessionUsage } from './session-usage.js';

const record = (usage: Record<string, number>, scope = 'turn') =>
  JSON.stringify({ type: 'usage.record', agentId: 'main', usage, usageScope: scope });

describe("Kimi Code's usage from its session log", () => {
  let home: string;
  beforeEach(async () => {
    home = await mkdtemp(join(tmpdir(), 'kimi-home-'));
  });
  afterEach(async () => rm(home, { recursive: true, force: true }));

  async function log(agent: string, lines: string[]) {
    const dir = join(home, 'sessions', 'wd_repo_1', 'session_1', 'agents', agent);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'wire.jsonl'), `${lines.join('\n')}\n`);
    return dir;
  }

  it('sums the turns of every agent of the session, subagents included', async () => {
    await log('main', [
      '{"type":"profile.bind"}',
      record({ inputOther: 100, output: 10, inputCacheRead: 5, inputCacheCreation: 1 }),
      'not json',
      record({ inputOther: 200, output: 20, inputCacheRead: 0, inputCacheCreation: 0 }),
      record({ inputOther: 999, output: 999 }, 'session'),
    ]);
    await log('sub_1', [record({ inputOther: 7, output: 3 })]);
    expect(await kimiSessionUsage(home)).toEqual({
      type: 'agent.usage',
      inputTokens: 307,
      outputTokens: 33,
      cacheReadTokens: 5,
      cacheWriteTokens: 1,
    });
  });

  it('reports nothing without a session, and never follows a link the agent left', async () => {
    expect(await kimiSessionUsage(home)).toBeUndefined();
    const outside = await mkdtemp(join(tmpdir(), 'kimi-outside-'));
    await writeFile(join(outside, 'wire.jsonl'), record({ inputOther: 5, output: 5 }));
    const dir = join(home, 'sessions', 'wd_repo_1', 'session_1', 'agents');
    await mkdir(dir, { recursive: true });
    await symlink(join(outside, 'wire.jsonl'), join(dir, 'wire.jsonl'));
    await symlink(outside, join(dir, 'main'));
    expect(await kimiSessionUsage(home)).toBeUndefined();
    await rm(outside, { recursive: true, force: true });
  });

  it('looks at a bounded number of entries, however many the agent made', async () => {
    const dir = join(home, 'sessions');
    await mkdir(dir, { recursive: true });
    await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        mkdir(join(dir, `s${i}`)).then(() => writeFile(join(dir, `s${i}`, 'wire.jsonl'), '')),
      ),
    );
    expect(await findAgentFiles(dir, 'wire.jsonl', 2)).toHaveLength(50);
    // Each directory and each file counts: 10 entries reach at most 5 of the files.
    expect(
      (await findAgentFiles(dir, 'wire.jsonl', 2, { entries: 10 })).length,
    ).toBeLessThanOrEqual(5);
  });
});
