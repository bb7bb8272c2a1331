import { describe, expect, it } from 'vitest';
import { branchNameProblem, reduceBranchValue, renderBranchName } from './branch-name.js';

describe('branch names', () => {
  const values = { ticket: 'ENG-42', original_ticket: 'ENG-40', clanker: 'backend bot' };

  it('renders placeholders, with or without spaces inside the braces', () => {
    expect(renderBranchName('viberator/{{ ticket }}-{{clanker}}', values)).toEqual({
      branch: 'viberator/ENG-42-backend-bot',
    });
    expect(renderBranchName('split/{{original_ticket}}/{{ ticket }}', values)).toEqual({
      branch: 'split/ENG-40/ENG-42',
    });
  });

  it('reduces values to [A-Za-z0-9._-]', () => {
    expect(reduceBranchValue('Fix: login / redirect!')).toBe('Fix-login-redirect');
    expect(reduceBranchValue('..weird..')).toBe('weird');
    expect(reduceBranchValue('ünïcode')).toBe('n-code');
  });

  it('refuses unknown placeholders and unusable results', () => {
    expect(renderBranchName('x/{{ sprint }}', values)).toEqual({
      problem: expect.stringContaining('unknown placeholder {{ sprint }}'),
    });
    expect(renderBranchName('x/{{ ticket }}', { ...values, ticket: '###' })).toEqual({
      problem: 'placeholder {{ ticket }} has no usable value',
    });
    expect(renderBranchName('x..{{ ticket }}', values)).toEqual({
      problem: expect.stringContaining('contains ..'),
    });
    expect(renderBranchName('{{ ticket }}.lock', values)).toEqual({
      problem: expect.stringContaining('.lock'),
    });
  });

  it('follows git check-ref-format', () => {
    for (const bad of ['-x', 'a//b', 'a/', 'a b', 'a~1', 'a^', 'a:b', '@', 'a@{1}', 'a/.b', 'a.']) {
      expect(branchNameProblem(bad), bad).toBeDefined();
    }
    for (const good of ['viberator/ENG-42', 'a.b/c_d-e', 'claw/nightly-deps'])
      expect(branchNameProblem(good), good).toBeUndefined();
  });
});
