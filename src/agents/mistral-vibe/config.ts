/**
 * The `config.toml` Mistral Vibe reads from `$VIBE_HOME` (upstream mistralai/mistral-vibe
 * 2.18: `vibe/core/config/_settings.py` VibeConfig, `vibe/core/config/models.py`
 * ProviderConfig/ModelConfig, `vibe/core/paths/_vibe_home.py`). One file per run, written
 * into the job's config dir, naming the key's environment variable but never holding it.
 */

/** What the config is made of: the model seam, the prompt file, nothing else. */
export interface VibeConfigInput {
  /** The job's model gateway (`ModelAccess.baseUrl`): the provider's `api_base`. */
  baseUrl: string;
  /**
   * True when the clanker names its own endpoint (`clanker.baseUrl`): an OpenAI-style
   * chat-completions server, spoken to by the generic backend. Else Mistral's API, behind
   * the gateway, with upstream's own Mistral backend.
   */
  custom: boolean;
  /** `clanker.model`. */
  model?: string;
  /** The environment variable holding the key (`ModelAccess.keyName`). */
  keyEnvVar: string;
  /**
   * The file holding the job's prompt, under every name it has (as given, and with symlinks
   * resolved, which is what Vibe compares): the read tool may read it in every profile.
   */
  promptFiles: string[];
}

/**
 * Upstream's own provider's endpoint (`DEFAULT_PROVIDERS[0]` in `_settings.py`): the
 * gateway's upstream when the clanker names none.
 */
export const MISTRAL_API_BASE = 'https://api.mistral.ai/v1';
/** Upstream's default model (`DEFAULT_ACTIVE_MODEL_CONFIG` in `_settings.py`). */
export const DEFAULT_MODEL = {
  name: 'mistral-vibe-cli-latest',
  alias: 'mistral-medium-3.5',
  temperature: 1.0,
  thinking: 'high',
};
/**
 * Seconds the Mistral backend keeps retrying a failed request (upstream default 300). The
 * generic backend retries three times whatever this says (`vibe/core/utils/retry.py`).
 */
export const RETRY_MAX_ELAPSED_SECONDS = 20;

/** A TOML basic string: JSON's escapes are TOML's, except DEL, which TOML wants escaped. */
export function tomlString(value: string): string {
  return JSON.stringify(value).replace(/\u007f/g, '\\u007F');
}

/**
 * The whole config.toml. Top-level keys, then the provider and model tables, then the
 * settings tables. Lists in TOML replace upstream's defaults, so the run sees exactly one
 * provider and one model.
 */
export function vibeConfigToml(input: VibeConfigInput): string {
  // A custom endpoint speaks OpenAI-style chat completions (`backend = "generic"`, POST
  // `<api_base>/chat/completions`, three tries, `vibe/core/llm/backend/generic.py`); without
  // one, upstream's own Mistral provider and backend.
  const { custom } = input;
  const provider = custom ? 'custom' : 'mistral';
  const apiBase = input.baseUrl.replace(/\/+$/, '');
  const model = input.model
    ? { name: input.model, alias: input.model }
    : { name: DEFAULT_MODEL.name, alias: DEFAULT_MODEL.alias };
  const lines = [
    '# Mistral Vibe configuration for one Viberator job (VIBE_HOME). The key is not here: the',
    '# provider names the environment variable that holds it.',
    `active_model = ${tomlString(model.alias)}`,
    // Offline and quiet: no telemetry (also Sentry and experiments), no update checks, no
    // Mistral connectors discovered over the network.
    'enable_telemetry = false',
    'enable_update_checks = false',
    'enable_connectors = false',
    `api_retry_max_elapsed_time = ${RETRY_MAX_ELAPSED_SECONDS}`,
    '',
    '[[providers]]',
    `name = ${tomlString(provider)}`,
    `api_base = ${tomlString(apiBase)}`,
    `api_key_env_var = ${tomlString(input.keyEnvVar)}`,
    `backend = ${tomlString(custom ? 'generic' : 'mistral')}`,
    ...(custom ? ['api_style = "openai"'] : []),
    '',
    '[[models]]',
    `name = ${tomlString(model.name)}`,
    `provider = ${tomlString(provider)}`,
    `alias = ${tomlString(model.alias)}`,
    ...(input.model
      ? []
      : [
          `temperature = ${DEFAULT_MODEL.temperature.toFixed(1)}`,
          `thinking = ${tomlString(DEFAULT_MODEL.thinking)}`,
        ]),
    '',
    '[experiments]',
    'enable = false',
    '',
    // No session transcripts on disk: a job is never resumed.
    '[session_logging]',
    'enabled = false',
    '',
    // The prompt file lies outside the checkout; reading it would need an approval the
    // read-only `plan` profile cannot get headless.
    '[tools.read]',
    `allowlist = [${input.promptFiles.map(tomlString).join(', ')}]`,
    '',
  ];
  return lines.join('\n');
}
