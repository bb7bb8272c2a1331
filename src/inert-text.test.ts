import { describe, expect, it } from 'vitest';
import { cutTo, fencedBlock, inlineCode, oneLine, quotePath, showHidden } from './inert-text.js';

describe('quotePath: a file name as git shows it', () => {
  it('leaves a harmless name alone, non-ASCII letters included', () => {
    expect(quotePath('src/index.js')).toBe('src/index.js');
    expect(quotePath('docs/café.md')).toBe('docs/café.md');
  });
  it('quotes and C-escapes line breaks, tabs, quotes and backslashes', () => {
    expect(quotePath('a\nb')).toBe('"a\\nb"');
    expect(quotePath('a\r\tb')).toBe('"a\\r\\tb"');
    expect(quotePath('say "hi"\\')).toBe('"say \\"hi\\"\\\\"');
  });
  it('shows other controls, separators, bidi and zero-width characters as octal UTF-8 bytes', () => {
    expect(quotePath('bidi-\u202etxt.sh')).toBe('"bidi-\\342\\200\\256txt.sh"');
    expect(quotePath('x\u2028y')).toBe('"x\\342\\200\\250y"');
    expect(quotePath('zero\u200bwidth')).toBe('"zero\\342\\200\\213width"');
    expect(quotePath('nul\u0001\u007f\u0085')).toBe('"nul\\001\\177\\302\\205"');
  });
});

describe('showHidden: free text for a code block', () => {
  it('keeps lines and tabs, turns a lone CR into a line break, escapes the rest', () => {
    expect(showHidden('a\r\nb\rc\td')).toBe('a\nb\nc\td');
    expect(showHidden('x\u202ey\u0000')).toBe('x\\u{202e}y\\u{0}');
  });
});

describe('fencedBlock', () => {
  it('uses a fence longer than any backtick run inside, so no line closes it', () => {
    expect(fencedBlock(['plain'])).toBe('```text\nplain\n```');
    const block = fencedBlock(['````', 'a ``` b']);
    expect(block.split('\n')[0]).toBe('`````text');
    expect(block.split('\n').at(-1)).toBe('`````');
  });
});

describe('inlineCode and oneLine', () => {
  it('fences backticks and keeps the span on one line', () => {
    expect(inlineCode('a`b')).toBe('``a`b``');
    expect(inlineCode('`x')).toBe('`` `x ``');
    expect(inlineCode('a\nb')).toBe('`a\\nb`');
  });
  it('collapses whitespace and hidden characters into single spaces', () => {
    expect(oneLine('  ENG-1:\tFix\n\u202elogin\u0000 ')).toBe('ENG-1: Fix login');
  });
});

describe('cutTo', () => {
  it('counts what it cut, in code points', () => {
    expect(cutTo('abc', 5)).toEqual({ text: 'abc', cut: 0 });
    expect(cutTo('😀😀😀', 2)).toEqual({ text: '😀😀', cut: 1 });
  });
});
