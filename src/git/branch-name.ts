/** Placeholders a branchNameTemplate may use (runtime.md). */
export const BRANCH_PLACEHOLDERS = ['ticket', 'original_ticket', 'clanker'] as const;
export type BranchPlaceholder = (typeof BRANCH_PLACEHOLDERS)[number];

const PLACEHOLDER = /\{\{\s*([^{}]*?)\s*\}\}/g;

/** Placeholders in the template that the worker does not know. */
export function unknownPlaceholders(template: string): string[] {
  const known = new Set<string>(BRANCH_PLACEHOLDERS);
  return [...template.matchAll(PLACEHOLDER)]
    .map((match) => match[1] ?? '')
    .filter((name) => !known.has(name));
}

/** Reduces a value to `[A-Za-z0-9._-]`: other runs become one `-`, edges are trimmed. */
export function reduceBranchValue(value: string): string {
  return value
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^[-.]+|[-.]+$/g, '');
}

/**
 * Renders the template. Returns the branch name, or a problem text when a placeholder is
 * unknown or the result is not a valid branch name.
 */
export function renderBranchName(
  template: string,
  values: Record<BranchPlaceholder, string | undefined>,
): { branch: string } | { problem: string } {
  const unknown = unknownPlaceholders(template);
  if (unknown.length > 0) {
    return {
      problem: `unknown placeholder ${unknown.map((name) => `{{ ${name} }}`).join(', ')} (known: ${BRANCH_PLACEHOLDERS.join(', ')})`,
    };
  }
  const missing: string[] = [];
  const branch = template.replace(PLACEHOLDER, (_, name: BranchPlaceholder) => {
    const reduced = reduceBranchValue(values[name] ?? '');
    if (!reduced) missing.push(name);
    return reduced;
  });
  if (missing.length > 0) return { problem: `placeholder {{ ${missing[0]} }} has no usable value` };
  const invalid = branchNameProblem(branch);
  return invalid ? { problem: `"${branch}" is not a valid branch name: ${invalid}` } : { branch };
}

/** The rules of `git check-ref-format --branch`, checked without a process. */
export function branchNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'it is empty';
  if (name.length > 255) return 'it is longer than 255 characters';
  // biome-ignore lint/suspicious/noControlCharactersInRegex: git refuses control characters in refs; this rule mirrors it.
  if (/[\x00-\x20\x7f~^:?*[\\]/.test(name))
    return 'it contains a space, control character or one of ~^:?*[\\';
  if (name.startsWith('-')) return 'it starts with -';
  if (name.includes('..')) return 'it contains ..';
  if (name.includes('@{') || name === '@') return 'it contains @{ or is @';
  if (name.startsWith('/') || name.endsWith('/') || name.includes('//'))
    return 'it has an empty path component';
  if (name.endsWith('.')) return 'it ends with .';
  for (const part of name.split('/')) {
    if (part.startsWith('.')) return 'a path component starts with .';
    if (part.endsWith('.lock')) return 'a path component ends with .lock';
  }
  return undefined;
}
