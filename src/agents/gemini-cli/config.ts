/**
 * Gemini CLI's user settings (`$GEMINI_CLI_HOME/.gemini/settings.json`) for one run. They
 * name no key: the CLI reads it from GEMINI_API_KEY in its environment.
 */
import type { Phase } from '../../payload/templates.js';
import { isReadOnlyPhase } from './command-args.js';

/** Attempts per model request, the first one included: a short retry, then the job fails. */
export const GEMINI_MAX_ATTEMPTS = 3;

/** Tools a run must not use, and why (the model is told when it tries). */
interface Denial {
  tools: string[];
  why: string;
}

/**
 * Plan Mode is an approval workflow for a person: headless, `exit_plan_mode` approves itself
 * and switches to YOLO, so a read-only run could enter Plan Mode, leave it and write.
 */
const PLAN_MODE: Denial = {
  tools: ['enter_plan_mode', 'exit_plan_mode'],
  why: 'Plan Mode is not available in this run.',
};

/**
 * The tools that change files or run commands, for research and planning. Headless with
 * `--approval-mode default` the CLI already withholds them; denied by a user-tier policy as
 * well, which outranks anything a repository's `.gemini/` could configure (its settings
 * could otherwise auto-approve tools with `tools.allowed`).
 */
const WRITING: Denial = {
  tools: ['write_file', 'replace', 'run_shell_command'],
  why: 'This run is read-only: it may not change files or run commands.',
};

/**
 * The run's policy file (`$GEMINI_CLI_HOME/.gemini/policies/*.toml`): tools denied without
 * an argument pattern are not even offered to the model.
 */
export function geminiPolicy(opts: { phase?: Phase } = {}): string {
  const denials = [PLAN_MODE, ...(isReadOnlyPhase(opts.phase) ? [WRITING] : [])];
  return denials
    .map((d) =>
      [
        '[[rule]]',
        `toolName = [${d.tools.map((t) => JSON.stringify(t)).join(', ')}]`,
        'decision = "deny"',
        'priority = 999',
        `denyMessage = ${JSON.stringify(d.why)}`,
      ].join('\n'),
    )
    .join('\n\n')
    .concat('\n');
}

export function geminiSettings(): Record<string, unknown> {
  return {
    // The Gemini API with a key. Without it, a custom GOOGLE_GEMINI_BASE_URL selects the
    // "gateway" auth type, which headless runs refuse ("Invalid auth method", exit 41).
    security: { auth: { selectedType: 'gemini-api-key' } },
    general: {
      // The CLI retries for minutes by default (10 attempts, backoff up to 30 s); the
      // worker's wall clock and inactivity limits decide how long a job may take.
      maxAttempts: GEMINI_MAX_ATTEMPTS,
      enableAutoUpdate: false,
      enableAutoUpdateNotification: false,
      checkpointing: { enabled: false },
      // Without Plan Mode its tools and its part of the system prompt are gone (see
      // geminiPolicy for why).
      plan: { enabled: false },
    },
    // Nothing leaves the machine but the model requests: no usage statistics, no telemetry.
    privacy: { usageStatisticsEnabled: false },
    telemetry: { enabled: false },
    ide: { enabled: false },
    // No terminal here: its colour and compatibility warnings are noise on stderr.
    ui: { showCompatibilityWarnings: false },
    // A `.env` in the checkout is the repository's, not the agent's configuration.
    advanced: { ignoreLocalEnv: true },
  };
}
