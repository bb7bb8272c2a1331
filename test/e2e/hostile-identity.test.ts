import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  closeHostile,
  closeSudoMode,
  gitOut,
  gitWithInput,
  type HostileRun,
  isRoot,
  mark,
  outcome,
  runHostileJob,
  type SudoMode,
  sudoMode,
  WORK_BRANCH,
} from '../support/hostile-job.js';
import { markdownBlocks } from '../support/markdown-blocks.js';

const WORKER = { name: 'Viberator Hostile Worker', email: 'worker@viberator.example' };
const IDENTITY_ENV = {
  VIBERATOR_GIT_AUTHOR_NAME: WORKER.name,
  VIBERATOR_GIT_AUTHOR_EMAIL: WORKER.email,
};
/** A line that reads as a Viberator trailer, wherever it sits in a message. */
const FOREIGN_TRAILER = /^\s*Viberator-[A-Za-z-]+\s*:.*job_someone_else/m;

/**
 * The lines of a pull request body as GitHub would see their raw HTML and links: fenced
 * code blocks and code spans
 * (inert: their text is shown as is) and backslash escapes taken out.
 */
function outsideCodeSpans(body: string): string[] {
  // What a renderer interprets: outside fenced code blocks, then outside code spans.
  return markdownBlocks(body)
    .filter((block) => !block.fenced)
    .flatMap((block) => block.lines)
    .map((line) =>
      line.replace(/\\[\s\S]/g, '').replace(/(?<!`)(`+)(?!`)[\s\S]*?(?<!`)\1(?!`)/g, '``'),
    );
}

/**
 * Class 6 of issue 15: only the worker speaks for the job. However the agent committed
 * (a spoofed author and committer, a `Viberator-Job` trailer of another job), every pushed
 * commit carries the worker's identity, and the only `Viberator-Job` trailer of the head
 * commit is the real job's. The agent's content is kept.
 */
describe.runIf(isRoot)('a hostile agent: commits in another name', () => {
  const modes: SudoMode[] = [];
  let job: HostileRun | undefined;
  afterEach(async () => {
    await closeHostile(job);
    job = undefined;
  });
  afterAll(async () => {
    for (const mode of modes) await closeSudoMode(mode);
  });

  async function expectWorkerSpeaks(run: HostileRun, files: Record<string, string>) {
    expect(await mark(run, 'finished'), 'the hostile script did not run to its end').toBe('done\n');
    // The agent's own commits really were spoofed.
    expect(
      await mark(run, 'agent-log'),
      `the agent's spoofed commit (its errors: ${await mark(run, 'errors')})`,
    ).toContain('Trusted Maintainer|Trusted Maintainer|feat');
    expect(run.run.result?.failure, outcome(run)).toBeUndefined();
    expect(run.run.code, outcome(run)).toBe(0);

    const range = `${run.baseSha}..refs/heads/${WORK_BRANCH}`;
    const identities = (
      await gitOut(run.world, ['log', '--format=%H %an <%ae> / %cn <%ce>', range])
    )
      .split('\n')
      .filter(Boolean);
    expect(identities.length).toBeGreaterThan(0);
    const worker = `${WORKER.name} <${WORKER.email}>`;
    for (const line of identities)
      expect
        .soft(line.slice(41), `pushed commit ${line.slice(0, 12)}: author / committer`)
        .toBe(`${worker} / ${worker}`);

    const messages = (await gitOut(run.world, ['log', '--format=%H%n%B%x00', range]))
      .split('\0')
      .map((text) => text.trim())
      .filter(Boolean);
    for (const message of messages)
      expect
        .soft(message, 'a pushed message carries the other job’s Viberator trailer')
        .not.toMatch(FOREIGN_TRAILER);

    const head = await gitOut(run.world, ['log', '-1', '--format=%B', `refs/heads/${WORK_BRANCH}`]);
    const trailers = (await gitWithInput(['interpret-trailers', '--parse'], head))
      .split('\n')
      .filter((line) => /^Viberator-Job\s*:/i.test(line));
    expect
      .soft(trailers, 'the Viberator-Job trailers of the head commit')
      .toEqual([`Viberator-Job: ${run.jobId}`]);

    for (const [path, content] of Object.entries(files))
      expect(
        await gitOut(run.world, ['show', `refs/heads/${WORK_BRANCH}:${path}`]),
        `the agent's ${path}`,
      ).toBe(content);
  }

  it('a commit with a spoofed author, committer and Viberator-Job trailer: pushed as the worker’s, with the real jobId only', async () => {
    job = await runHostileJob({
      jobId: 'job_h6_spoof',
      script: 'identity.sh',
      args: ['one'],
      env: IDENTITY_ENV,
    });
    await expectWorkerSpeaks(job, { 'feature.txt': 'agent feature\n' });
  }, 150_000);

  it('two spoofed commits with a whole trailer block and a change left uncommitted: every pushed commit is the worker’s', async () => {
    job = await runHostileJob({
      jobId: 'job_h6_spoof_more',
      script: 'identity.sh',
      args: ['more'],
      env: IDENTITY_ENV,
    });
    await expectWorkerSpeaks(job, {
      'feature.txt': 'agent feature\n',
      'more.txt': 'more\n',
      'uncommitted.txt': 'left for the worker\n',
    });
    const messages = await gitOut(job.world, [
      'log',
      '--format=%B',
      `${job.baseSha}..refs/heads/${WORK_BRANCH}`,
    ]);
    expect(messages).not.toMatch(/^\s*Viberator-Agent\s*:\s*codex/m);
    expect(messages).not.toMatch(/^\s*Viberator-Clanker\s*:\s*clk_other/m);
  }, 150_000);

  it('sudo mode: the spoofed commit is pushed as the worker’s, with the real jobId only', async () => {
    const mode = await sudoMode();
    modes.push(mode);
    job = await runHostileJob({
      jobId: 'job_h6_sudo',
      script: 'identity.sh',
      args: ['one'],
      env: IDENTITY_ENV,
      sudo: mode,
    });
    await expectWorkerSpeaks(job, { 'feature.txt': 'agent feature\n' });
  }, 150_000);

  it('file names that forge the pull request body (a fake entry, a comment hiding the rest, a link, an image): inert text', async () => {
    job = await runHostileJob({ jobId: 'job_h6_pr_text', script: 'pr-text.sh', env: IDENTITY_ENV });
    expect(await mark(job, 'finished'), 'the hostile script did not run to its end').toBe('done\n');
    expect(job.run.result?.failure, outcome(job)).toBeUndefined();
    expect(job.world.github.pulls).toHaveLength(1);
    const body = String(job.world.github.pulls[0]?.body);
    const marker = `<!-- viberator-job: ${job.jobId} -->`;
    const lines = outsideCodeSpans(body);
    // No line the agent's names made up: README.md did not change, no entry may claim it.
    expect(
      body.split('\n').filter((line) => /^\s*[-*+]\s+`?README\.md/.test(line)),
      'a fake list entry',
    ).toEqual([]);
    // The only HTML is the job marker: no comment that hides the files after it, no tag.
    expect(
      lines.filter((line) => line !== marker && /<[A-Za-z!/?]/.test(line)),
      'raw HTML (a comment or a tag) from a file name',
    ).toEqual([]);
    expect(
      lines.filter((line) => /\]\(/.test(line)),
      'a Markdown link from a file name',
    ).toEqual([]);
    // The real changed file is listed where a reader sees it, before the marker.
    const visible = body.slice(0, body.lastIndexOf(marker));
    expect(visible.replace(/<!--[\s\S]*?(-->|$)/g, ''), 'backdoor.sh hidden').toContain(
      'backdoor.sh',
    );
    expect(body.trimEnd().endsWith(marker), 'the job marker ends the body').toBe(true);
  }, 150_000);
});
