/**
 * The scripted model behind every wire format: a neutral view of one request (what the
 * CLI asked, which tools it offers, how far the conversation is) and a neutral reply. The
 * answer is decided from the request's content, never from a counter: CLIs send extra
 * requests (titles, routing) and retry, and a counter would drift.
 */
import { posix } from 'node:path';
import { canPick } from './tool-picker.js';

export type WireName = 'anthropic' | 'openai-chat' | 'openai-responses' | 'gemini';

/** A tool the CLI offers the model, with its JSON schema when it gave one. */
export interface OfferedTool {
  name: string;
  /** JSON schema of the arguments (`input_schema`, `parameters`, …), if any. */
  parameters?: Record<string, unknown>;
  /** True for a freeform (grammar) tool, e.g. Codex's `apply_patch`. */
  freeform?: boolean;
}

/** One request, as every wire decodes it. */
export interface ModelTurn {
  wire: WireName;
  model?: string;
  /** The job's prompt as the CLI passed it on (context sections the CLI adds removed). */
  prompt: string;
  /** Every text of the request (system prompt, instructions, messages), for assertions. */
  allText: string;
  tools: OfferedTool[];
  /** Tool calls the model already made in this conversation. */
  toolCalls: number;
  /** Tool results already in the conversation. */
  toolResults: number;
  /** The working directory the CLI told the model about, if it did. */
  cwd?: string;
  /** Whether the CLI asked for a streamed answer. */
  stream: boolean;
}

/** What the model wants a tool to do; the tool picker turns it into the CLI's own tool. */
export type ToolIntent =
  | { kind: 'write'; path: string; content: string }
  | { kind: 'bash'; command: string }
  | { kind: 'read'; path: string }
  | { kind: 'raw'; name: string; input: Record<string, unknown> };

export type ModelReply =
  /** A final text answer, optionally preceded by thinking. */
  | { type: 'text'; text: string; thinking?: string }
  /** One tool call, optionally preceded by thinking and text. */
  | { type: 'tool_call'; intent: ToolIntent; id?: string; text?: string; thinking?: string }
  /** An HTTP error in the wire's own error JSON. */
  | { type: 'error'; status: number; message?: string }
  /** Accept the request and never answer (the connection stays open until close()). */
  | { type: 'hang' };

/** Decides the reply to one request. */
export type ModelScript = (turn: ModelTurn) => ModelReply | Promise<ModelReply>;

/** The directives of a prompt, see {@link defaultModelScript}. */
export interface PromptDirectives {
  writes: Array<{ path: string; content: string }>;
  /** Every tool step in prompt order: the writes and the `[[bash]]` commands. */
  steps: ToolIntent[];
  answer?: string;
  hang: boolean;
  status?: number;
  /** `[[usage <input> <output>]]`: the token figures every answer reports instead of the estimate. */
  usage?: { inputTokens: number; outputTokens: number };
}

/** Parses the `[[…]]` directives of a prompt. Block contents are taken verbatim, line by line. */
export function parseDirectives(prompt: string): PromptDirectives {
  const directives: PromptDirectives = { writes: [], steps: [], hang: false };
  const lines = prompt.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] ?? '').trim();
    const write = /^\[\[write\s+(.+?)\]\]$/.exec(line);
    const answer = line === '[[answer]]';
    const bash = line === '[[bash]]';
    if (write || answer || bash) {
      const body: string[] = [];
      for (i++; i < lines.length && (lines[i] ?? '').trim() !== '[[end]]'; i++) {
        body.push(lines[i] ?? '');
      }
      if (write?.[1]) {
        // Each content line ends with a newline, as text files do.
        const file = { path: write[1], content: body.map((l) => `${l}\n`).join('') };
        directives.writes.push(file);
        directives.steps.push({ kind: 'write', ...file });
      } else if (bash) {
        directives.steps.push({ kind: 'bash', command: body.join('\n').trim() });
      } else {
        directives.answer = body.join('\n').trim();
      }
      continue;
    }
    if (line === '[[hang]]') directives.hang = true;
    const status = /^\[\[status\s+(\d{3})\]\]$/.exec(line);
    if (status?.[1]) directives.status = Number(status[1]);
    const usage = /^\[\[usage\s+(\d+)\s+(\d+)\]\]$/.exec(line);
    if (usage?.[1] && usage[2]) {
      directives.usage = { inputTokens: Number(usage[1]), outputTokens: Number(usage[2]) };
    }
  }
  return directives;
}

/**
 * The working directory a CLI reports to the model, searched in the given texts with the
 * phrasings the CLIs use, the most specific first.
 */
export function findWorkingDirectory(texts: string[]): string | undefined {
  for (const pattern of [
    /Primary working directory:\s*(\/[^\n]*)/,
    /<cwd>\s*(\/[^<\n]*)<\/cwd>/,
    /Working directory:\s*(\/[^\n]*)/i,
    // Qwen Code: "I'm currently working in the directory: /…".
    /working in the directory:?\s*`?(\/[^\s`'"\n]+)/i,
    /current working directory(?: is)?:?\s*`?(\/[^\s`'"\n]+)/i,
    /working directory(?: is)?:?\s*`?(\/[^\s`'"\n]+)/i,
  ]) {
    for (const text of texts) {
      const match = pattern.exec(text);
      if (match?.[1]) return match[1].trim().replace(/[.,;:]+$/, '');
    }
  }
  return undefined;
}

/** A relative path resolved against the reported working directory, when there is one. */
export function absoluteIn(cwd: string | undefined, path: string): string {
  return posix.isAbsolute(path) || !cwd ? path : posix.join(cwd, path);
}

/**
 * The default, prompt-directed model. Requests that offer no tools (titles and other side
 * requests) get a short plain text. Otherwise, from the job prompt:
 * - `[[status <code>]]`: answer with that HTTP status and the wire's error JSON;
 * - `[[hang]]`: never answer;
 * - `[[write <path>]]` … `[[end]]`: one file-writing tool call per block, in order, one per
 *   turn (the tool calls already in the history say which block is next); a step none of the
 *   offered tools can do is skipped, as a model would (a read-only run offers no writer);
 * - `[[bash]]` … `[[end]]`: one shell tool call with that command, in prompt order;
 * - `[[answer]]` … `[[end]]`: the final text once all steps are done (default: a one-line
 *   summary of the files written, or "No changes were needed.");
 * - `[[usage <input> <output>]]`: every answer to a request carrying the prompt (side requests
 *   with no tools included, errors and hangs excepted) reports exactly these token figures
 *   instead of the size-based estimate ({@link directedUsage}; the server applies it, so it
 *   holds under a custom script too). Budget tests use it to make a job expensive.
 */
export const defaultModelScript: ModelScript = (turn) => {
  if (turn.tools.length === 0) return { type: 'text', text: 'OK.' };
  const file = promptFileTask(turn);
  if (file && file.task === undefined) return { type: 'tool_call', intent: file.read };
  const directives = parseDirectives(file?.task ?? turn.prompt);
  if (directives.status !== undefined) return { type: 'error', status: directives.status };
  if (directives.hang) return { type: 'hang' };
  const next = directives.steps.filter((step) => canPick(step, turn))[
    turn.toolCalls - (file ? 1 : 0)
  ];
  if (next) return { type: 'tool_call', intent: next };
  if (directives.answer !== undefined) return { type: 'text', text: directives.answer };
  const paths = directives.writes.map((w) => w.path);
  return {
    type: 'text',
    text: paths.length === 0 ? 'No changes were needed.' : `Wrote ${paths.join(', ')}.`,
  };
};

/**
 * A prompt that only names the file holding the task, as adapters of CLIs that take the prompt
 * as an argument pass it (Mistral Vibe: "Your task is in the file `<path>`. Read that file
 * first, …").
 */
const PROMPT_FILE_POINTER = /task is in the file `([^`]+)`/i;
/** A line as a read tool returns it: `     1→text` (Vibe, after `content: ` on the first). */
const NUMBERED_LINE = /^(?:content: ?)?\s*(\d+)(?:→|\t)(.*)$/u;

/**
 * For a prompt pointing at a file: the read call to make first, and once a tool result came
 * back, the file's text (its numbered lines in the conversation; empty when the read failed).
 * The read is the conversation's first tool call, so the job's steps come one call later.
 */
export function promptFileTask(
  turn: ModelTurn,
): { read: ToolIntent; task: string | undefined } | undefined {
  const path = PROMPT_FILE_POINTER.exec(turn.prompt)?.[1];
  if (!path) return undefined;
  const read: ToolIntent = { kind: 'read', path };
  if (turn.toolCalls === 0) return { read, task: undefined };
  const lines: string[] = [];
  for (const line of turn.allText.split('\n')) {
    const match = NUMBERED_LINE.exec(line);
    if (match && Number(match[1]) === lines.length + 1) lines.push(match[2] ?? '');
    else if (lines.length > 0) break;
  }
  return { read, task: lines.join('\n') };
}

/**
 * The usage a `[[usage]]` directive of the turn's job prompt asks for, if any. For a prompt
 * that only points at a file, the directive counts once the file's text is in the conversation.
 */
export function directedUsage(
  turn: ModelTurn,
): { inputTokens: number; outputTokens: number } | undefined {
  const task = promptFileTask(turn)?.task;
  return parseDirectives(task ?? turn.prompt).usage;
}

/** A rough token count, so usage figures look plausible and vary with the input. */
export function estimateTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

/** Splits a string into a few chunks, as a real stream would deliver it. */
export function chunks(text: string, size = 64): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out.length > 0 ? out : [''];
}
