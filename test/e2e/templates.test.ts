import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEMPLATE_PHASES, type Template } from '../../src/payload/templates.js';
import { type LocalWorld, startLocalWorld } from '../support/local-world/local-world.js';
import { listBranches } from '../support/local-world/seed-repo.js';
import { executionPayload, writePrompt } from '../support/payloads.js';
import { plantedSecrets, runCli, tempDir, worldEnv } from '../support/run-cli.js';

/**
 * All seven templates of payload.md, end to end with the real Claude Code. In every one the
 * prompt asks for a file change: research and planning run read-only (no writing tool is
 * offered), report the agent's final answer as `document` and push nothing; execution pushes and opens a pull request; a claw that changed the tree
 * does both (and keeps its document).
 */
describe('every template, per its phase', () => {
  const secrets = plantedSecrets();
  let world: LocalWorld;

  beforeAll(async () => {
    world = await startLocalWorld({ credentials: secrets });
  });
  afterAll(async () => world?.close());

  const templates = Object.entries(TEMPLATE_PHASES) as Array<[Template, string]>;

  it.each(templates)('%s (%s)', async (template, phase) => {
    const key = `TPL-${template.length}${phase.length}${Date.now() % 100000}`;
    const answer = `Findings for ${template}: the session expires after 30 minutes.`;
    const payload = executionPayload({
      jobId: `job_${template}`,
      repoUrl: world.repoUrl,
      modelUrl: world.model.url,
      prompt: writePrompt('notes/finding.md', `noted by ${template}`, answer),
      overrides: {
        template,
        ticket: { id: key, key, title: `Work for ${template}` },
        ...(phase === 'claw'
          ? { claw: { id: 'claw_1', key: `claw-${key}`, name: 'Nightly notes' } }
          : {}),
      },
    });
    const before = await listBranches(world.bareRepo);
    const pullsBefore = world.github.pulls.length;
    const run = await runCli(['run', '--payload', '-'], {
      env: worldEnv(world, await tempDir('viberator-templates-')),
      stdin: JSON.stringify(payload),
    });
    expect(run.result?.failure).toBeUndefined();
    expect(run.code).toBe(0);
    expect(run.result).toMatchObject({ status: 'completed', phase });
    if (phase === 'research' || phase === 'planning') {
      // Read-only: the model was offered no tool that writes files or runs commands, so it
      // answered without the write; and no commit, no push, no pull request.
      const offered = world.model.requests
        .filter((r) => r.turn?.prompt.includes(answer))
        .flatMap((r) => r.turn?.tools.map((t) => t.name) ?? []);
      expect(offered).toContain('Read');
      expect(offered).not.toEqual(expect.arrayContaining(['Write']));
      expect(offered).not.toContain('Edit');
      expect(offered).not.toContain('Bash');
      expect(run.result?.document).toBe(answer);
      expect(run.result?.branch).toBeUndefined();
      expect(run.result?.commitSha).toBeUndefined();
      expect(run.result?.prUrl).toBeUndefined();
      expect(await listBranches(world.bareRepo)).toEqual(before);
      expect(world.github.pulls.length).toBe(pullsBefore);
      expect(run.progress.some((line) => /\bpushing\b/.test(line))).toBe(false);
    } else {
      expect(run.result?.branch).toBeDefined();
      expect(await listBranches(world.bareRepo)).toContain(run.result?.branch);
      expect(world.github.pulls.length).toBe(pullsBefore + 1);
      expect(run.result?.prUrl).toBe(world.github.pulls.at(-1)?.html_url);
      if (phase === 'claw') expect(run.result?.document).toBe(answer);
      else expect(run.result?.document).toBeUndefined();
    }
  });
});
