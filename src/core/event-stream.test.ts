import { describe, expect, it } from 'vitest';
import type { WorkerEvent } from '../events.js';
import { Redactor } from '../secrets/redactor.js';
import { EventStream } from './event-stream.js';

const SECRET = 'sk-test-0123456789abcdef';

function stream() {
  const redactor = new Redactor();
  redactor.add(SECRET);
  const reports: string[] = [];
  const events = new EventStream(redactor, (line) => reports.push(line));
  return { events, reports };
}

const message = (text: string) => ({ type: 'agent.message', role: 'assistant', text }) as const;

describe('EventStream', () => {
  it('numbers from 1 and redacts before listeners see the event', () => {
    const { events } = stream();
    const seen: WorkerEvent[] = [];
    events.subscribe((event) => seen.push(event));
    events.emit(message(`key ${SECRET}`));
    events.emit({ type: 'log', level: 'info', message: 'two' });
    expect(seen.map((e) => e.seq)).toEqual([1, 2]);
    expect(seen[0]).toMatchObject({ text: 'key [REDACTED]' });
  });

  it('survives a throwing listener: others still get every event, numbering goes on, reported once', () => {
    const { events, reports } = stream();
    const before: number[] = [];
    const after: number[] = [];
    events.subscribe((event) => before.push(event.seq));
    events.subscribe((event) => {
      throw new Error(`listener broke on ${(event as { text?: string }).text} with ${SECRET}`);
    });
    events.subscribe((event) => after.push(event.seq));

    expect(() => events.emit(message('private words of the model'))).not.toThrow();
    expect(() => events.emit(message('more words'))).not.toThrow();
    const third = events.emit({ type: 'log', level: 'info', message: 'three' });

    expect(third.seq).toBe(3);
    expect(before).toEqual([1, 2, 3]);
    expect(after).toEqual([1, 2, 3]);
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatch(
      /^viberator: an event listener failed on event 1 \(agent\.message\)/,
    );
    expect(reports[0]).not.toContain(SECRET);
  });

  it('reports each failing listener once, and survives non-Error throws and a failing reporter', () => {
    const redactor = new Redactor();
    let calls = 0;
    const events = new EventStream(redactor, () => {
      calls += 1;
      throw new Error('stderr is gone');
    });
    events.subscribe(() => {
      throw 'a string';
    });
    events.subscribe(() => {
      throw {
        toString() {
          throw new Error('cannot even be printed');
        },
      };
    });
    expect(() => events.emit(message('x'))).not.toThrow();
    expect(() => events.emit(message('y'))).not.toThrow();
    expect(calls).toBe(1); // the second listener's report could not be built; nothing escaped
  });

  it('catches the rejection of an async listener instead of leaving it unhandled', async () => {
    const { events, reports } = stream();
    events.subscribe(async () => {
      throw new Error('delivery failed');
    });
    events.emit(message('x'));
    await new Promise((resolve) => setImmediate(resolve));
    expect(reports).toEqual([
      expect.stringMatching(/event 1 \(agent\.message\): Error: delivery failed/),
    ]);
  });
});
