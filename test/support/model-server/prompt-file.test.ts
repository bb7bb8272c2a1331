import { describe, expect, it } from 'vitest';
import { defaultModelScript, type ModelTurn, promptFileTask } from './scripted-model.js';
import { pickToolCall } from './tool-picker.js';

/** A prompt that only points at the task's file, as the Mistral Vibe adapter passes it. */
const POINTER = 'Your task is in the file `/w/agent/prompt.md`. Read that file first, then do it.';
const TASK = ['Add notes.', '[[write notes.md]]', '# Notes', '[[end]]'];

function turn(over: Partial<ModelTurn>): ModelTurn {
  return {
    wire: 'openai-chat',
    prompt: POINTER,
    allText: POINTER,
    tools: [
      { name: 'read', parameters: { properties: { file_path: {}, offset: {} } } },
      { name: 'write_file', parameters: { properties: { path: {}, content: {} } } },
    ],
    toolCalls: 0,
    toolResults: 0,
    stream: false,
    ...over,
  };
}

/** The read result as Vibe's `read` tool words it. */
const readResult = `file_path: /w/agent/prompt.md\ncontent: ${TASK.map((l, i) => `${String(i + 1).padStart(9)}→${l}`).join('\n')}\nnum_lines: 4`;

describe('scripted model: a prompt in a file', () => {
  it('reads the file first, with the read tool the CLI offers', async () => {
    const first = turn({});
    const reply = await defaultModelScript(first);
    expect(reply).toEqual({
      type: 'tool_call',
      intent: { kind: 'read', path: '/w/agent/prompt.md' },
    });
    if (reply.type !== 'tool_call') throw new Error('no call');
    expect(pickToolCall(reply.intent, first)).toEqual({
      name: 'read',
      input: { file_path: '/w/agent/prompt.md' },
    });
  });

  it('then follows the directives of the file, one call later', async () => {
    const afterRead = turn({ allText: `${POINTER}\n${readResult}`, toolCalls: 1, toolResults: 1 });
    expect(promptFileTask(afterRead)?.task).toBe(TASK.join('\n'));
    expect(await defaultModelScript(afterRead)).toEqual({
      type: 'tool_call',
      intent: { kind: 'write', path: 'notes.md', content: '# Notes\n' },
    });
    const done = turn({ allText: `${POINTER}\n${readResult}\nok`, toolCalls: 2, toolResults: 2 });
    expect(await defaultModelScript(done)).toEqual({ type: 'text', text: 'Wrote notes.md.' });
  });

  it('answers without changes when the read brought nothing back', async () => {
    const failed = turn({
      allText: `${POINTER}\n<tool_error>not found</tool_error>`,
      toolCalls: 1,
    });
    expect(await defaultModelScript(failed)).toEqual({
      type: 'text',
      text: 'No changes were needed.',
    });
  });

  it('leaves prompts that carry their task alone', () => {
    expect(promptFileTask(turn({ prompt: TASK.join('\n') }))).toBeUndefined();
  });
});
