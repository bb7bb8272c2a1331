/** A run of Markdown lines: inside a fenced code block (literal text) or outside it. */
export interface MarkdownBlock {
  fenced: boolean;
  lines: string[];
}

const FENCE = /^ {0,3}(`{3,}|~{3,})(.*)$/;

/**
 * Splits Markdown into fenced code blocks and the rest, as CommonMark does: a line ending is
 * \n, \r\n or a lone \r; a fence closes on a line of the same character, at least as long,
 * with nothing but spaces after it. What is outside a fence is what a renderer interprets.
 */
export function markdownBlocks(text: string): MarkdownBlock[] {
  const blocks: MarkdownBlock[] = [];
  let open: { char: string; length: number } | undefined;
  let current: MarkdownBlock = { fenced: false, lines: [] };
  for (const line of text.split(/\r\n|\r|\n/)) {
    const fence = FENCE.exec(line);
    if (!open && fence?.[1] && !(fence[1][0] === '`' && fence[2]?.includes('`'))) {
      blocks.push(current);
      open = { char: fence[1][0] ?? '`', length: fence[1].length };
      current = { fenced: true, lines: [] };
      continue;
    }
    if (open && fence?.[1] && fence[1][0] === open.char && fence[1].length >= open.length) {
      if (fence[2]?.trim() === '') {
        blocks.push(current);
        open = undefined;
        current = { fenced: false, lines: [] };
        continue;
      }
    }
    current.lines.push(line);
  }
  blocks.push(current);
  return blocks.filter((block) => block.fenced || block.lines.length > 0);
}

/** The text a Markdown renderer interprets (everything outside fenced code blocks). */
export function outsideFences(text: string): string {
  return markdownBlocks(text)
    .filter((block) => !block.fenced)
    .map((block) => block.lines.join('\n'))
    .join('\n');
}
