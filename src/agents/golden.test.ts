/**
 * Golden tests of every agent's parser but Claude Code's (which has its own, parser.test.ts):
 * `test/fixtures/agents/<slug>/<case>.jsonl` is real stdout of the pinned CLI recorded
 * through the adapter (test/support/record-agent-fixture.ts); `<case>.expected.json` holds
 * the arguments, exit and stderr of the run and the events and outcome the parser must make
 * of them.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { sandboxContext } from '../../test/support/agent-sandbox.js';
import {
  COMMON_CASES,
  FIXTURES_ROOT,
  recordingProfile,
} from '../../test/support/record-agent-fixture.js';
import { runParser } from './parser-test-kit.js';
import { adapterFor } from './registry.js';
import { AGENT_SLUGS, type AgentExit } from './types.js';

interface Expected {
  args: string[];
  exit: AgentExit;
  stderr: string[];
  events: unknown[];
  outcome: unknown;
}

const SLUGS = AGENT_SLUGS.filter((slug) => slug !== 'claude-code');

describe.each(SLUGS)('%s parser: golden fixtures', (slug) => {
  const dir = `${FIXTURES_ROOT}${slug}/`;
  const cases = existsSync(dir)
    ? readdirSync(dir)
        .filter((f) => f.endsWith('.jsonl'))
        .map((f) => f.slice(0, -'.jsonl'.length))
        .sort()
    : [];
  const profile = recordingProfile(slug);
  const all = { ...COMMON_CASES, ...profile?.cases };

  it('has every common case recorded', () => {
    expect(cases).toEqual(expect.arrayContaining(Object.keys(COMMON_CASES)));
  });

  it.each(cases)('%s', (name) => {
    const stdout = readFileSync(`${dir}${name}.jsonl`, 'utf8').split('\n');
    const expected = JSON.parse(readFileSync(`${dir}${name}.expected.json`, 'utf8')) as Expected;
    const { events, outcome } = runParser(
      adapterFor(slug).createParser(),
      stdout,
      expected.stderr,
      expected.exit,
    );
    expect(events).toEqual(expected.events);
    expect(outcome).toEqual(expected.outcome);
  });

  // A fixture recorded with other flags than the adapter's shows other behaviour.
  it.each(cases.filter((name) => all[name]))(
    "%s was recorded with the adapter's arguments",
    (name) => {
      const expected = JSON.parse(readFileSync(`${dir}${name}.expected.json`, 'utf8')) as Expected;
      const adapter = adapterFor(slug);
      const c = all[name];
      if (!profile || !c) throw new Error(`no profile or case for ${slug}/${name}`);
      const ctx = sandboxContext('/workspace', {
        agent: slug,
        binary: `/agents/${adapter.binaryName}`,
        launcher: adapter.launcher ? `/agents/${adapter.launcher.program}` : undefined,
        prompt: c.prompt,
        keyName: adapter.modelKeys({ model: profile.model })[0] ?? 'API_KEY',
        key: 'sk-demo',
        baseUrl: `http://127.0.0.1:PORT${profile.baseUrlSuffix ?? ''}`,
        model: profile.model,
        agentsMd: c.agentsMd,
      });
      expect(expected.args).toEqual(adapter.command(ctx).args);
      // The prompt is never an argument (runtime.md: other processes could read it).
      expect(expected.args.join('\n')).not.toContain(c.prompt);
    },
  );
});
