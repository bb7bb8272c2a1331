import type { Phase } from '../../payload/templates.js';

/** Claude Code's tools that change files or run commands: withheld in read-only phases. */
const WRITING_TOOLS = ['Write', 'Edit', 'MultiEdit', 'NotebookEdit', 'Bash'];

/**
 * The arguments of every Claude Code run, in one place: the adapter starts the CLI with them
 * and the golden-fixture recorder (test/support/record-claude-fixture.ts) records with them,
 * so the fixtures show exactly what a worker sees. The prompt goes on stdin, never here.
 * Research and planning run read-only: the writing tools are not offered to the model.
 */
export function claudeCodeArgs(opts: { model?: string; phase?: Phase } = {}): string[] {
  const readOnly = opts.phase === 'research' || opts.phase === 'planning';
  const args = [
    '-p',
    '--output-format',
    'stream-json',
    '--verbose',
    // Not --dangerously-skip-permissions: the CLI refuses it as root.
    '--permission-mode',
    readOnly ? 'default' : 'acceptEdits',
    ...(readOnly
      ? ['--disallowedTools', ...WRITING_TOOLS]
      : // The mode accepts edits; commands (tests, builds, git) need their own allowance.
        ['--allowedTools', 'Bash']),
    // No session on disk: a job is never resumed, and the transcript would keep what the
    // model said.
    '--no-session-persistence',
  ];
  if (opts.model) args.push('--model', opts.model);
  return args;
}
