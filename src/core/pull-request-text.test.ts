import { describe, expect, it } from 'vitest';
import { markdownBlocks, outsideFences } from '../../test/support/markdown-blocks.js';
import type { Clanker, Payload } from '../payload/schema.js';
import { Redactor } from '../secrets/redactor.js';
import { changeTitle, LISTED_FILES, pullRequestBody, SUMMARY_LIMIT } from './pull-request-text.js';

const payload = { jobId: 'job_1', ticket: { key: 'ENG-1', title: 'Fix it' } } as Payload;
const clanker = { id: 'clk', name: 'bot', agent: 'claude-code' } as Clanker;

function body(summary: string | undefined, changedFiles: string[]): string {
  return pullRequestBody({ payload, clanker, summary, changedFiles });
}

/** The lines of the body's code blocks: what shows as literal text. */
function literal(text: string): string[] {
  return markdownBlocks(text)
    .filter((block) => block.fenced)
    .flatMap((block) => block.lines);
}

describe('the pull request body', () => {
  it('keeps no part of a secret that the summary cut would split, when redacted first', () => {
    const secret = 'ghs_secretvalue0123456789abcdef';
    const redactor = new Redactor();
    redactor.add(secret);
    // The secret straddles the 4,000-character cut of the summary.
    const summary = `${'x'.repeat(3990)}${secret} and more`;
    const redacted = redactor.text(body(redactor.text(summary), []));
    expect(redacted).not.toContain(secret.slice(0, 8));
    // Cutting first and redacting afterwards is what leaked: the check above can fail.
    const leaky = redactor.text(body(summary, []));
    expect(leaky).toContain(secret.slice(0, 8));
  });

  it('a file name cannot add a list entry or hide the files after it in a comment', () => {
    const files = ['a`\n- `fake-reviewed.txt`\n<!--', 'backdoor.sh', 'x```y'];
    const text = body('Done.', files);
    expect(literal(text)).toEqual(
      expect.arrayContaining(['"a`\\n- `fake-reviewed.txt`\\n<!\u200b--"', 'backdoor.sh', 'x```y']),
    );
    const live = outsideFences(text);
    expect(live.match(/<!--/g)).toEqual(['<!--']);
    expect(live).toContain('<!-- viberator-job: job_1 -->');
    expect(live).not.toContain('fake-reviewed');
    expect(live).not.toContain('backdoor');
  });

  it('the summary shows links, mentions, HTML and a forged marker as text, and cannot close its block', () => {
    const summary = [
      'Fixed. <!-- hide',
      '[ok](https://evil.example) @octocat #12 <img src=x>',
      '````',
      '<!-- viberator-job: job_other -->',
      'tail\u2028more\u202e',
    ].join('\n');
    const text = body(summary, ['a.txt']);
    const live = outsideFences(text);
    for (const forged of ['evil.example', '@octocat', '#12', '<img', 'job_other', 'hide'])
      expect(live).not.toContain(forged);
    expect(text.match(/<!--\s*viberator-job:/g)).toEqual(['<!-- viberator-job:']);
    expect(literal(text)).toContain('tail\\u{2028}more\\u{202e}');
  });

  it('a long list is cut with a count, a long summary and a long name too', () => {
    const files = Array.from({ length: LISTED_FILES + 7 }, (_, i) => `f${i}.txt`);
    files[0] = 'n'.repeat(1000);
    const text = body('s'.repeat(SUMMARY_LIMIT + 25), files);
    expect(outsideFences(text)).toContain('… and 7 more');
    expect(outsideFences(text)).toContain('goes on for 25 more characters');
    expect(literal(text)).toContain(`${'n'.repeat(300)}…`);
    expect(literal(text)).not.toContain(`f${LISTED_FILES}.txt`);
  });

  it('says so when the agent gave no summary', () => {
    expect(body('  ', ['a'])).toContain('_The agent gave no summary._');
  });
});

describe('the pull request title', () => {
  it("is the payload's key and title on one line", () => {
    const hostile = {
      ...payload,
      ticket: { key: 'ENG-2', title: 'Fix\n<!--\u202e\tit' },
    } as Payload;
    expect(changeTitle(hostile, clanker)).toBe('ENG-2: Fix <!-- it');
  });
});
