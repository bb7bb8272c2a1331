/**
 * Turns a neutral tool intent ("write this file", "run this command") into a call of a tool
 * the CLI actually offered, reading the tool's JSON schema for the argument names. One
 * picker serves all seven CLIs: Claude's `Write`, Gemini's and Qwen's `write_file`,
 * OpenCode's `write`, Codex's `exec_command`/`shell`, …
 */
import { absoluteIn, type ModelTurn, type OfferedTool, type ToolIntent } from './scripted-model.js';

/** A concrete call: a tool name and its JSON arguments. */
export interface ToolCall {
  name: string;
  input: Record<string, unknown>;
}

const WRITE_TOOLS = /^(write|write_?file|writefile|create_?file|file_?write)$/i;
const SHELL_TOOLS =
  /^(bash|shell|shell_?command|run_shell_command|exec_command|local_shell|run_command|execute_command)$/i;
/** Codex's freeform patch tool: a write becomes a patch that adds the file. */
const PATCH_TOOLS = /^apply_patch$/;
const READ_TOOLS = /^(read|read_?file|view)$/i;
const PATH_KEYS = ['file_path', 'filePath', 'absolute_path', 'path', 'filename', 'file'];
const CONTENT_KEYS = ['content', 'contents', 'file_text', 'text', 'data'];
const COMMAND_KEYS = ['command', 'cmd', 'commands'];

function properties(tool: OfferedTool): Record<string, { type?: unknown }> {
  const props = tool.parameters?.properties;
  return typeof props === 'object' && props !== null
    ? (props as Record<string, { type?: unknown }>)
    : {};
}

function firstKey(tool: OfferedTool, keys: string[], fallback: string): string {
  const props = properties(tool);
  return keys.find((key) => key in props) ?? fallback;
}

/** A shell command that writes `content` to `path`, creating its directory. */
function writeCommand(path: string, content: string): string {
  const quoted = `'${path.replace(/'/g, `'\\''`)}'`;
  const marker = 'VIBERATOR_EOF';
  return `mkdir -p "$(dirname ${quoted})" && cat > ${quoted} <<'${marker}'\n${content}${content.endsWith('\n') ? '' : '\n'}${marker}`;
}

/** An `apply_patch` patch (Codex's format) that creates `path` with `content`. */
function addFilePatch(path: string, content: string): string {
  const lines = content.replace(/\n$/, '').split('\n');
  return [
    '*** Begin Patch',
    `*** Add File: ${path}`,
    ...lines.map((l) => `+${l}`),
    '*** End Patch',
  ].join('\n');
}

function shellCall(tool: OfferedTool, command: string): ToolCall {
  const key = firstKey(tool, COMMAND_KEYS, 'command');
  const type = properties(tool)[key]?.type;
  return {
    name: tool.name,
    input: { [key]: type === 'array' ? ['bash', '-lc', command] : command },
  };
}

/** The call for an intent among the offered tools; throws when no tool fits (a test bug). */
export function pickToolCall(intent: ToolIntent, turn: ModelTurn): ToolCall {
  if (intent.kind === 'raw') return { name: intent.name, input: intent.input };
  const shell = turn.tools.find((tool) => SHELL_TOOLS.test(tool.name) && !tool.freeform);
  if (intent.kind === 'bash') {
    if (!shell) throw new Error(`no shell tool among ${turn.tools.map((t) => t.name).join(', ')}`);
    return shellCall(shell, intent.command);
  }
  const write = turn.tools.find((tool) => WRITE_TOOLS.test(tool.name) && !tool.freeform);
  const path = absoluteIn(turn.cwd, intent.path);
  if (intent.kind === 'read') {
    const read = turn.tools.find((tool) => READ_TOOLS.test(tool.name) && !tool.freeform);
    if (read) return { name: read.name, input: { [firstKey(read, PATH_KEYS, 'file_path')]: path } };
    throw new Error(`no tool to read a file among ${turn.tools.map((t) => t.name).join(', ')}`);
  }
  if (write) {
    return {
      name: write.name,
      input: {
        [firstKey(write, PATH_KEYS, 'file_path')]: path,
        [firstKey(write, CONTENT_KEYS, 'content')]: intent.content,
      },
    };
  }
  const patch = turn.tools.find((tool) => PATCH_TOOLS.test(tool.name) && tool.freeform);
  if (patch) return { name: patch.name, input: { input: addFilePatch(path, intent.content) } };
  if (shell) return shellCall(shell, writeCommand(path, intent.content));
  throw new Error(`no tool to write a file among ${turn.tools.map((t) => t.name).join(', ')}`);
}

/** Whether the offered tools can carry out an intent (a read-only run offers no writer). */
export function canPick(intent: ToolIntent, turn: ModelTurn): boolean {
  try {
    pickToolCall(intent, turn);
    return true;
  } catch {
    return false;
  }
}
