import { join } from 'node:path';
import type { Phase } from '../../payload/templates.js';

/** Kimi Code's data root (`KIMI_CODE_HOME`): config, instructions, skills, sessions, logs. */
export function kimiHome(configDir: string): string {
  return join(configDir, 'kimi-code');
}

/** The main-agent definition research and planning run with (see {@link readOnlyAgentFile}). */
export function readOnlyAgentPath(configDir: string): string {
  return join(configDir, 'read-only-agent.md');
}

/** True for the phases that must not change the checkout. */
export function isReadOnlyPhase(phase: Phase | undefined): boolean {
  return phase === 'research' || phase === 'planning';
}

/**
 * The fixed text passed as `-p`. Kimi Code takes its prompt only as that argument (no stdin,
 * no prompt file), and an argument is readable by every process on the host; so the job's
 * prompt stays in the prompt file and this text only points at it. The UserPromptSubmit
 * hook (config.ts) adds the file's text to the conversation (just before this text) ahead
 * of the first model request; should the hook fail, the model is told to read the file.
 */
export function kimiPromptPointer(promptFile: string): string {
  return [
    `Your task is in the file ${promptFile};`,
    'its full text is in the UserPromptSubmit hook result of this conversation.',
    'If that text is missing, read the file first. Then carry out the task.',
  ].join(' ');
}

/**
 * The arguments of every Kimi Code run, after the CLI's own script path (the launcher is
 * Node ≥ 22.19, so the command is `node <kimi> …`). Print mode (`-p`) approves tools by
 * itself (`--yolo` and `--plan` are refused beside it). Research and planning start with
 * the read-only agent definition, which offers the model no writing or shell tools. The
 * model comes through `KIMI_MODEL_NAME` (an environment-defined model is the default alias;
 * `-m` would name a config.toml alias), so no `-m` here.
 */
export function kimiCodeArgs(opts: {
  promptFile: string;
  configDir: string;
  phase?: Phase;
}): string[] {
  return [
    '-p',
    kimiPromptPointer(opts.promptFile),
    '--output-format',
    'stream-json',
    ...(isReadOnlyPhase(opts.phase) ? ['--agent-file', readOnlyAgentPath(opts.configDir)] : []),
  ];
}
