import { shellQuote } from '../../isolation/run-as-agent.js';
import type { AgentContext } from '../adapter.js';
import { kimiHome } from './command-args.js';

/** The model when the clanker names none: Moonshot's coding model on its default endpoint. */
export const KIMI_DEFAULT_MODEL = 'kimi-k2.7-code';

/** The CLI's default endpoint for provider type `kimi` (Moonshot's API). */
export const MOONSHOT_BASE_URL = 'https://api.moonshot.ai/v1';

/**
 * Attempts per model request (the CLI's default is 10 with exponential backoff, minutes when
 * the endpoint is down): the worker's own limits decide the rest.
 */
const MAX_ATTEMPTS_PER_STEP = '3';

/** The line the prompt hook prints before the prompt file's text. */
export const TASK_HEADING = 'The task:';

/** A TOML basic string (JSON's escapes are TOML's, but DEL must be escaped too). */
function tomlString(value: string): string {
  return JSON.stringify(value).replace(/\u007f/g, '\\u007f');
}

/**
 * `$KIMI_CODE_HOME/config.toml`. No key, endpoint or model in it: those come from the
 * environment (`KIMI_MODEL_*`). The one hook hands the job's prompt to the model: on the
 * UserPromptSubmit event Kimi appends what the command prints to the conversation, before
 * the first model request. A heading comes first, so the output is never taken for the
 * hooks' JSON answer; if the command fails, Kimi goes on without it (the `-p` text then
 * tells the model to read the file).
 */
export function kimiConfigToml(promptFile: string): string {
  const file = shellQuote(promptFile);
  return [
    '# Written by the Viberator worker for one job.',
    'telemetry = false',
    '',
    '[[hooks]]',
    'event = "UserPromptSubmit"',
    `command = ${tomlString(`echo ${shellQuote(TASK_HEADING)} && echo && cat -- ${file}`)}`,
    'timeout = 30',
    '',
  ].join('\n');
}

/**
 * The main agent of research and planning (`--agent-file`): Kimi's default system prompt
 * with only reading tools. Print mode cannot start in plan mode (`-p` refuses `--plan`), but
 * an agent definition's `tools` list shapes what the model is offered and is enforced again
 * before a tool runs: no Write, Edit or Bash, no sub-agents that could have them.
 */
export function readOnlyAgentFile(): string {
  return [
    '---',
    'name: viberator-read-only',
    'description: Read-only main agent for research and planning jobs.',
    'tools: Read, ReadMediaFile, Glob, Grep, FetchURL, TodoList, Skill',
    '---',
    '',
    // Kimi's own placeholder for its default system prompt, filled in by the CLI.
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a Kimi template, not ours
    '${base_prompt}',
    '',
    '# This job is read-only',
    '',
    'Do not change files and do not run commands: investigate and answer. Your final',
    'message is the whole result of the job.',
    '',
  ].join('\n');
}

/**
 * The child's whole environment: the worker's base, Kimi's home in the workspace, the model
 * seam (`KIMI_MODEL_*`: the CLI reads no plain `KIMI_API_KEY`, so the payload's key is
 * renamed) and the switches that keep a run quiet, offline and bounded.
 */
export function kimiEnv(ctx: AgentContext): Record<string, string> {
  const env: Record<string, string> = {
    ...ctx.baseEnv,
    KIMI_CODE_HOME: kimiHome(ctx.configDir),
    // The environment-defined model: its name switches the mechanism on; the key is
    // required with it; provider type `kimi` is Moonshot's Chat Completions dialect.
    KIMI_MODEL_NAME: ctx.model.model ?? KIMI_DEFAULT_MODEL,
    KIMI_MODEL_API_KEY: ctx.model.key,
    KIMI_MODEL_PROVIDER_TYPE: 'kimi',
    // No telemetry, no update check (together they leave only the model's endpoint).
    KIMI_DISABLE_TELEMETRY: '1',
    KIMI_CODE_NO_AUTO_UPDATE: '1',
    KIMI_LOOP_MAX_ATTEMPTS_PER_STEP: MAX_ATTEMPTS_PER_STEP,
    // Print mode waits for scheduled tasks to fire: a job schedules none.
    KIMI_DISABLE_CRON: '1',
    // The only wall-time setting the CLI has: how long print mode waits for background
    // tasks after the answer. Never beyond the worker's own limit.
    KIMI_CODE_BACKGROUND_PRINT_WAIT_CEILING_S: String(
      Math.max(1, Math.ceil(ctx.timeLimitMs / 1000)),
    ),
    // The job's gateway, in front of clanker.baseUrl or Moonshot's API.
    KIMI_MODEL_BASE_URL: ctx.model.baseUrl,
  };
  return env;
}
