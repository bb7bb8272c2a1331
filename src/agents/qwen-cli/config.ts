/**
 * Qwen Code's configuration: the endpoint a key goes to, and the user settings written to
 * `$QWEN_HOME/settings.json` (QWEN_HOME is the job's agent config dir).
 */
import type { Clanker } from '../../payload/schema.js';

/** OpenAI's endpoint: the CLI's own default for `--auth-type openai`. */
export const OPENAI_BASE_URL = 'https://api.openai.com/v1';

/**
 * DashScope's OpenAI-compatible endpoint (Alibaba Cloud Model Studio, the documented
 * `compatible-mode/v1` URL, also the CLI's own DashScope default). Other regions, such as
 * `https://dashscope-intl.aliyuncs.com/compatible-mode/v1`, go in `clanker.baseUrl`.
 */
export const DASHSCOPE_BASE_URL = 'https://dashscope.aliyuncs.com/compatible-mode/v1';

export const OPENAI_KEY = 'OPENAI_API_KEY';
export const DASHSCOPE_KEY = 'DASHSCOPE_API_KEY';

/** True for a DashScope host (any region). */
function isDashScope(baseUrl: string | undefined): boolean {
  if (!baseUrl) return false;
  try {
    return /(^|\.)dashscope(-[a-z]+)?\.aliyuncs\.com$/i.test(new URL(baseUrl).hostname);
  } catch {
    return false;
  }
}

/**
 * The payload secrets accepted as the key, preferred first: a DashScope endpoint prefers
 * `DASHSCOPE_API_KEY`, any other `OPENAI_API_KEY`; either is accepted.
 */
export function qwenModelKeys(clanker: Pick<Clanker, 'baseUrl'>): string[] {
  return isDashScope(clanker.baseUrl) ? [DASHSCOPE_KEY, OPENAI_KEY] : [OPENAI_KEY, DASHSCOPE_KEY];
}

/**
 * The upstream the key goes to: `clanker.baseUrl`, else the default of the key's provider
 * (a DashScope key to DashScope, an OpenAI key to OpenAI).
 */
export function qwenBaseUrl(model: { keyName: string; baseUrl?: string }): string {
  if (model.baseUrl) return model.baseUrl;
  return model.keyName === DASHSCOPE_KEY ? DASHSCOPE_BASE_URL : OPENAI_BASE_URL;
}

/**
 * User settings for a headless, offline-quiet run. The key is not here (it travels in the
 * environment only). `$version` is the CLI's current settings schema, so it does not rewrite
 * the file with a migration.
 */
export function qwenSettings(): Record<string, unknown> {
  return {
    $version: 4,
    general: {
      // No update check or self-update (it would install into QWEN_HOME and relaunch).
      enableAutoUpdate: false,
      // No session transcript on disk: a job is never resumed.
      chatRecording: false,
      // The worker commits; no co-author trailers or attribution notes from the CLI.
      gitCoAuthor: { commit: false, pr: false },
    },
    // No usage statistics and no telemetry export (each a lookup on a closed network).
    privacy: { usageStatisticsEnabled: false },
    telemetry: { enabled: false },
    // The bundled ripgrep ships without its execute bit: use a system `rg` when there is
    // one, else the CLI's built-in search (instead of failing to spawn the bundled one).
    tools: { useBuiltinRipgrep: false },
    // No background memory sub-agent after the run: an extra model call (tokens) whose
    // memories no later job would read (every job has a fresh QWEN_HOME).
    memory: { enableManagedAutoMemory: false, enableManagedAutoDream: false },
    model: {
      generationConfig: {
        // No SDK-level retries and no long rate-limit retries inside a stream. The CLI
        // still makes up to 7 attempts with backoff (about 75 s) on 5xx and 429; that loop
        // has no setting, and the worker's limits bound it.
        maxRetries: 0,
      },
    },
  };
}
