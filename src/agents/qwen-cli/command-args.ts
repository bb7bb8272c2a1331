import type { Phase } from '../../payload/templates.js';

/**
 * Seconds the CLI's own `--max-wall-time` runs past the worker's limit. The worker stops the
 * agent at its limit and reports `agent_timeout`; the CLI's budget (exit 55) is only a
 * backstop and must never win that race, or the job would read as an agent failure.
 */
export const WALL_TIME_MARGIN_S = 60;

/** The CLI refuses budgets above about 24 days (2,147,483 s) as typos. */
const MAX_WALL_TIME_S = 2_000_000;

/** True for the phases that run read-only: research and planning. */
export function isReadOnlyPhase(phase: Phase | undefined): boolean {
  return phase === 'research' || phase === 'planning';
}

/**
 * The arguments of every Qwen Code run (the adapter starts the CLI with them; golden
 * fixtures are recorded with them). Headless whenever stdin is not a TTY: the prompt goes on
 * stdin, never here. The endpoint, key and model travel in the environment.
 *
 * Read-only phases use `--approval-mode plan`: the CLI then offers the model no writing or
 * shell tool at all (only reads, searches and the like), refuses deferred ones through its
 * `tool_call` bridge, and declines anything else that would need an approval. Execution and
 * claw use `yolo`: every tool runs without asking (the worker's agent user is the sandbox).
 */
export function qwenCliArgs(opts: { phase?: Phase; timeLimitMs?: number } = {}): string[] {
  const args = [
    '--output-format',
    'stream-json',
    // OpenAI-compatible Chat Completions (OpenAI, DashScope, any compatible endpoint).
    '--auth-type',
    'openai',
    '--approval-mode',
    isReadOnlyPhase(opts.phase) ? 'plan' : 'yolo',
  ];
  const limit = opts.timeLimitMs;
  if (limit !== undefined && Number.isFinite(limit) && limit > 0) {
    const seconds = Math.ceil(limit / 1000) + WALL_TIME_MARGIN_S;
    if (seconds <= MAX_WALL_TIME_S) args.push('--max-wall-time', String(seconds));
  }
  return args;
}
