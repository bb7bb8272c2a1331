import type { Phase } from '../../payload/templates.js';

/** Phases that only read: research and planning produce a document, not a change. */
export function isReadOnlyPhase(phase: Phase | undefined): boolean {
  return phase === 'research' || phase === 'planning';
}

/**
 * The arguments of every Gemini CLI run, in one place (the adapter and the golden fixtures
 * use them). The prompt goes on stdin, never here: with stdin not a TTY the CLI runs headless
 * and reads its prompt from there.
 *
 * - `yolo` approves every tool in the phases that change the repository (execution, claw).
 * - Research and planning run with `default`: headless, the CLI then withholds every tool
 *   that would need an approval — `write_file`, `replace`, `run_shell_command`, `web_fetch` —
 *   so the model only gets the reading and searching tools. Not `plan`: Plan Mode has the
 *   model save its plan in a scratch folder and ask for approval with `exit_plan_mode`, which
 *   headless switches to YOLO; the document must be the final answer instead.
 * - `--skip-trust` trusts the checkout for this run (headless, an untrusted folder is exit 55).
 */
export function geminiCliArgs(opts: { model?: string; phase?: Phase } = {}): string[] {
  const args = [
    '--output-format',
    'stream-json',
    '--approval-mode',
    isReadOnlyPhase(opts.phase) ? 'default' : 'yolo',
    '--skip-trust',
  ];
  if (opts.model) args.push('--model', opts.model);
  return args;
}
