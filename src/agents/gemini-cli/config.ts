/**
 * Gemini CLI's user settings (`$GEMINI_CLI_HOME/.gemini/settings.json`) for one run. They
 * name no key: the CLI reads it from GEMINI_API_KEY in its environment.
 */

/** Attempts per model request, the first one included: a short retry, then the job fails. */
export const GEMINI_MAX_ATTEMPTS = 3;

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
