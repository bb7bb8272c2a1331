/**
 * Text the agent chose (file names, its summary), made inert for Markdown: it may show, but
 * never add lines, links, HTML, comments or mentions to what the worker writes.
 */

/**
 * Characters that change how text is laid out or read without showing: C0 controls, DEL, C1
 * controls, the Unicode line and paragraph separators, bidi controls (Trojan Source) and
 * invisible format characters (zero-width spaces and joiners, word joiner, BOM).
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point.
const HIDDEN = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/gu;

/** One line of the worker's own words: every run of whitespace and hidden characters is one space. */
export function oneLine(text: string): string {
  return text.replace(HIDDEN, ' ').replace(/\s+/g, ' ').trim();
}

const NAMED: Record<string, string> = {
  '\x07': '\\a',
  '\b': '\\b',
  '\t': '\\t',
  '\n': '\\n',
  '\v': '\\v',
  '\f': '\\f',
  '\r': '\\r',
  '"': '\\"',
  '\\': '\\\\',
};

/**
 * A path as git's quotePath shows it: unchanged when harmless, else in double quotes with C
 * escapes (`\n`, `\t`, `\"`, `\\`, octal bytes of UTF-8 for the other hidden characters).
 * Printable non-ASCII stays as it is (git's `core.quotePath=false`).
 */
export function quotePath(path: string): string {
  let quoted = false;
  const shown = path.replace(/[\\"]/g, (char) => {
    quoted = true;
    return NAMED[char] ?? char;
  });
  const escaped = shown.replace(HIDDEN, (char) => {
    quoted = true;
    return NAMED[char] ?? octalBytes(char);
  });
  return quoted ? `"${escaped}"` : escaped;
}

function octalBytes(char: string): string {
  return [...Buffer.from(char, 'utf8')]
    .map((byte) => `\\${byte.toString(8).padStart(3, '0')}`)
    .join('');
}

/**
 * Free text (the agent's summary) for a code block: line breaks become `\n` (a lone `\r` is a
 * line break to Markdown), tabs stay, every other hidden character shows as `\u{…}`.
 */
export function showHidden(text: string): string {
  return text
    .replace(/\r\n?/g, '\n')
    .replace(HIDDEN, (char) =>
      char === '\n' || char === '\t' ? char : `\\u{${(char.codePointAt(0) ?? 0).toString(16)}}`,
    );
}

/**
 * Breaks every `<!--` apart with a zero-width space (which {@link quotePath} and
 * {@link showHidden} never let through from the agent): inside a code block it would not be
 * a comment anyway, but a plain text search for the job marker must not find the agent's.
 */
export function defuseCommentOpeners(text: string): string {
  return text.replace(/<!--/g, '<!\u200b--');
}

/**
 * A fenced code block holding `lines` literally: its fence is a run of backticks longer than
 * any in the content, so no line can close it; Markdown, HTML, autolinks, @mentions and
 * #references inside it are shown as text by every CommonMark renderer (GitHub, GitLab, Gitea).
 */
export function fencedBlock(lines: string[]): string {
  const longest = Math.max(
    0,
    ...lines.flatMap((line) => (line.match(/`+/g) ?? []).map((run) => run.length)),
  );
  const fence = '`'.repeat(Math.max(3, longest + 1));
  return [`${fence}text`, ...lines, fence].join('\n');
}

/** Text for an inline code span of the worker's own line: hidden characters shown, backticks fenced. */
export function inlineCode(text: string): string {
  const shown = showHidden(text).replace(/\n/g, '\\n');
  const longest = Math.max(0, ...(shown.match(/`+/g) ?? []).map((run) => run.length));
  const ticks = '`'.repeat(longest + 1);
  const pad = shown.startsWith('`') || shown.endsWith('`') ? ' ' : '';
  return `${ticks}${pad}${shown}${pad}${ticks}`;
}

/** Cuts `text` to `limit` code points (never inside a surrogate pair). */
export function cutTo(text: string, limit: number): { text: string; cut: number } {
  const points = Array.from(text);
  if (points.length <= limit) return { text, cut: 0 };
  return { text: points.slice(0, limit).join(''), cut: points.length - limit };
}
