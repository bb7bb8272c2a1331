/**
 * Codex's `config.toml`, written into `$CODEX_HOME` for one run. The model endpoint is a
 * provider of our own, always: Codex ignores `OPENAI_BASE_URL`, its built-in `openai`
 * provider cannot be overridden (no retry cap, WebSockets first, and it does not read
 * `OPENAI_API_KEY` from the environment), while a custom provider takes the endpoint, the
 * NAME of the variable holding the key (`env_key`) and retry caps. The key itself is never
 * in this file.
 */

/** OpenAI's endpoint: the upstream for clankers that do not name another. */
export const OPENAI_BASE_URL = 'https://api.openai.com/v1';

/** The provider id the config defines and selects. */
export const PROVIDER_ID = 'viberator';

/** Retries of a failed request and of a dropped stream; the worker's limits decide the rest. */
export const MAX_RETRIES = 2;

/** A TOML basic string: JSON's escapes are all valid TOML escapes. */
function tomlString(value: string): string {
  return JSON.stringify(value);
}

export interface CodexConfigOptions {
  /** The endpoint: the job's model gateway (`ModelAccess.baseUrl`). */
  baseUrl: string;
  /** The environment variable the key is read from (the payload secret's name). */
  keyName: string;
}

/** The whole `config.toml` (root keys before the first table, as TOML requires). */
export function codexConfigToml(opts: CodexConfigOptions): string {
  return [
    '# Written by the Viberator worker for one job; the key is read from the env variable',
    '# named by env_key, never stored here.',
    `model_provider = ${tomlString(PROVIDER_ID)}`,
    // Headless: nobody answers a question. Denials (read-only phases) go back to the model.
    'approval_policy = "never"',
    // Offline and quiet: no update check, no history file (a job is never resumed).
    'check_for_update_on_startup = false',
    '',
    '[history]',
    'persistence = "none"',
    '',
    `[model_providers.${PROVIDER_ID}]`,
    'name = "Viberator"',
    `base_url = ${tomlString(opts.baseUrl)}`,
    'wire_api = "responses"',
    `env_key = ${tomlString(opts.keyName)}`,
    `request_max_retries = ${MAX_RETRIES}`,
    `stream_max_retries = ${MAX_RETRIES}`,
    '',
    // No analytics or feedback uploads.
    '[analytics]',
    'enabled = false',
    '',
    '[feedback]',
    'enabled = false',
    '',
    '[features]',
    // Plugins are fetched from a marketplace at start.
    'plugins = false',
    // By default a connection that cannot be made is retried forever.
    'unbounded_connection_retries = false',
    '',
    // The bundled system skills (image generation and the like) are not the job's.
    '[skills.bundled]',
    'enabled = false',
    '',
  ].join('\n');
}
