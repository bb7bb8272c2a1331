import { describe, expect, it } from 'vitest';
import type { Clanker, Payload } from '../payload/schema.js';
import { Redactor } from '../secrets/redactor.js';
import { pullRequestBody } from './pull-request-text.js';

const payload = { jobId: 'job_1' } as Payload;
const clanker = { id: 'clk', name: 'bot', agent: 'claude-code' } as Clanker;

describe('the pull request body', () => {
  it('keeps no part of a secret that the summary cut would split, when redacted first', () => {
    const secret = 'ghs_secretvalue0123456789abcdef';
    const redactor = new Redactor();
    redactor.add(secret);
    // The secret straddles the 4,000-character cut of the summary.
    const summary = `${'x'.repeat(3990)}${secret} and more`;
    const body = redactor.text(
      pullRequestBody({ payload, clanker, summary: redactor.text(summary), changedFiles: [] }),
    );
    expect(body).not.toContain(secret.slice(0, 8));
    // Cutting first and redacting afterwards is what leaked: the check above can fail.
    const leaky = redactor.text(pullRequestBody({ payload, clanker, summary, changedFiles: [] }));
    expect(leaky).toContain(secret.slice(0, 8));
  });
});
