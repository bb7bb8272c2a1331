/**
 * One place pins the agent CLIs: agents/package.json (npm CLIs as exact dependencies, the
 * rest under `otherTools`). The images install from it; these checks keep the other mentions
 * of a version — the worker's own dependency on Claude Code, Vibe's install hint — equal to it.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MISTRAL_VIBE_VERSION } from './mistral-vibe/adapter.js';

const agents = JSON.parse(
  readFileSync(new URL('../../agents/package.json', import.meta.url), 'utf8'),
) as { dependencies: Record<string, string>; otherTools: Record<string, string> };
const worker = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  dependencies: Record<string, string>;
};

describe('agent CLI versions', () => {
  it('pins every npm CLI to an exact version', () => {
    for (const [name, version] of Object.entries(agents.dependencies)) {
      expect(version, name).toMatch(/^\d+\.\d+\.\d+$/);
    }
  });

  it('the bundled Claude Code is the version listed beside the others', () => {
    const claude = worker.dependencies['@anthropic-ai/claude-code'];
    expect(claude).toMatch(/^\d+\.\d+\.\d+$/);
    expect(agents.otherTools['@anthropic-ai/claude-code']).toMatch(new RegExp(`^${claude} `));
  });

  it("Vibe's install hint names the version listed", () => {
    expect(agents.otherTools['mistral-vibe']).toMatch(new RegExp(`^${MISTRAL_VIBE_VERSION} `));
  });
});
