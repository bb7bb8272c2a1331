import type { Phase } from '../../payload/templates.js';

/**
 * The fixed instruction passed with `-p`: where the job's prompt is, never the prompt itself.
 *
 * Vibe takes its programmatic prompt only as an argument (`-p TEXT`, upstream
 * `vibe/cli/entrypoint.py`) and has no prompt-file option. Piped stdin is read only when a
 * terminal can be reopened afterwards (`get_prompt_from_stdin` in `vibe/cli/cli.py` opens
 * `/dev/tty` and drops the text when that fails), which a headless worker never has. So the
 * prompt stays in `ctx.promptFile` (written by the worker, readable by the agent user only)
 * and the argument names that file; the model reads it with Vibe's `read` tool as its first
 * step. Other processes can see the path, not the task.
 *
 * Vibe does not load the repository's own AGENTS.md (nor its `.vibe/`) unless the checkout is
 * trusted, and trusting it would let the repository's `.vibe/config.toml` replace the
 * worker's configuration; the instruction points the model at those files instead.
 */
export function promptPointer(promptFile: string): string {
  return (
    `Your task is in the file \`${promptFile}\`. Read that file first, then carry out the ` +
    'task it describes. Follow the AGENTS.md files of this repository, if it has any.'
  );
}

/**
 * The arguments of every Vibe run. `--output streaming` prints each conversation message as
 * one JSON line (`StreamingJsonOutputFormatter`, `vibe/core/output_formatters.py`).
 * Execution and claw run the `auto-approve` agent profile (every tool call approved);
 * research and planning run `plan`, Vibe's read-only profile: `write_file` and `edit` are
 * never allowed (outside Vibe's own plans folder) and bash runs only its read-only allowlist,
 * since a headless run cannot approve anything else
 * (`vibe/core/agents/models.py`, `AgentLoop._should_execute_tool`).
 * No `--trust`: see {@link promptPointer}. Vibe has no wall-time option; the worker's limits
 * stop it.
 */
export function mistralVibeArgs(opts: { promptFile: string; phase: Phase }): string[] {
  const readOnly = opts.phase === 'research' || opts.phase === 'planning';
  return [
    '-p',
    promptPointer(opts.promptFile),
    '--output',
    'streaming',
    '--agent',
    readOnly ? 'plan' : 'auto-approve',
  ];
}
