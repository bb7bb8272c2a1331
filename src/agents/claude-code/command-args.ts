/**
 * The arguments of every Claude Code run, in one place: the adapter starts the CLI with them
 * and the golden-fixture recorder (test/support/record-claude-fixture.ts) records with them,
 * so the fixtures show exactly what a worker sees. The prompt goes on stdin, never here.
 */
export function claudeCodeArgs(opts: { model?: string } = {}): string[] {
  const args = [
    '-p',
    '--output-format',
    'stream-json',
    '--verbose',
    // Not --dangerously-skip-permissions: the CLI refuses it as root.
    '--permission-mode',
    'acceptEdits',
    // The mode accepts edits; commands (tests, builds, git) need their own allowance.
    '--allowedTools',
    'Bash',
    // No session on disk: a job is never resumed, and the transcript would keep what the
    // model said.
    '--no-session-persistence',
  ];
  if (opts.model) args.push('--model', opts.model);
  return args;
}
