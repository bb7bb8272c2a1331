import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { WorkerEvent } from '../events.js';
import { createProgressView } from './progress-view.js';

function streamOf(isTTY: boolean): { stream: NodeJS.WriteStream; text: () => string } {
  const sink = new PassThrough();
  let text = '';
  sink.on('data', (chunk: Buffer) => {
    text += chunk.toString('utf8');
  });
  return {
    stream: Object.assign(sink, { isTTY }) as unknown as NodeJS.WriteStream,
    text: () => text,
  };
}

const at = (ms: number) => new Date(Date.UTC(2026, 10, 24, 0, 0, 0, ms)).toISOString();
const events: WorkerEvent[] = [
  { seq: 1, ts: at(0), type: 'status', step: 'cloning', state: 'started' },
  { seq: 2, ts: at(40), type: 'status', step: 'cloning', state: 'completed' },
  {
    seq: 3,
    ts: at(50),
    type: 'agent.tool_call',
    id: 't1',
    name: 'Write',
    kind: 'edit',
    input: { file_path: 'a.txt' },
  },
  { seq: 4, ts: at(60), type: 'agent.message', role: 'assistant', text: 'Done\nwith   it' },
];

describe('progress view', () => {
  it('without a TTY: one plain line per event, step durations', () => {
    const { stream, text } = streamOf(false);
    const view = createProgressView(stream);
    for (const event of events) view.onEvent(event);
    view.close();
    expect(text().split('\n').filter(Boolean)).toEqual([
      'viberator: cloning started',
      'viberator: cloning completed (40 ms)',
      'viberator: agent edit Write: {"file_path":"a.txt"}',
      'viberator: agent: Done with it',
    ]);
  });

  it('on a TTY: coloured lines and a live footer naming the running step', () => {
    const { stream, text } = streamOf(true);
    const view = createProgressView(stream);
    view.onEvent(events[0] as WorkerEvent);
    view.close();
    expect(text()).toContain('\x1b[36mcloning started\x1b[0m');
    expect(text()).toMatch(/… cloning \(\d+s\)/);
  });
});
