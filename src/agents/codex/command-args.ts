import type { Phase } from '../../payload/templates.js';

/**
 * The arguments of every Codex run, in one place: the adapter starts the CLI with them and
 * the golden fixtures record them. The prompt is read from stdin (`-`), never an argument.
 *
 * Execution and claw run without Codex's own sandbox: the worker already runs the agent as
 * an unprivileged user in its own workspace, and the sandbox would keep commands from the
 * network (package installs, tests). Research and planning run in Codex's `read-only`
 * sandbox (bubblewrap, which works as the unprivileged agent user): commands may read but
 * not write, and `apply_patch` is refused; with `approval_policy = "never"` the refusal goes
 * back to the model instead of waiting for a person.
 */
export function codexArgs(opts: { model?: string; phase?: Phase } = {}): string[] {
  const readOnly = opts.phase === 'research' || opts.phase === 'planning';
  return [
    'exec',
    '--json',
    // Codex refuses a directory that is not a git repository it trusts; the worker, not a
    // trust list in $CODEX_HOME, decides where the agent runs.
    '--skip-git-repo-check',
    // No session files: a job is never resumed, and they would keep what the model said.
    '--ephemeral',
    ...(readOnly ? ['--sandbox', 'read-only'] : ['--dangerously-bypass-approvals-and-sandbox']),
    ...(opts.model ? ['--model', opts.model] : []),
    '-',
  ];
}
