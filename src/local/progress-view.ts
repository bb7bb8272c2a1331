import type { WorkerEvent } from '../events.js';

const WIDTH = 160;

function oneLine(text: string, width = WIDTH): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > width ? `${flat.slice(0, width - 1)}…` : flat;
}

/** One human line for an event. */
export function describeEvent(event: WorkerEvent): string {
  switch (event.type) {
    case 'status':
      return `${event.step} ${event.state}`;
    case 'agent.message':
      return `${event.role === 'assistant' ? 'agent' : 'agent (system)'}: ${oneLine(event.text)}`;
    case 'agent.thinking':
      return `agent thinking: ${oneLine(event.text)}`;
    case 'agent.tool_call':
      return `agent ${event.kind} ${event.name}: ${oneLine(JSON.stringify(event.input) ?? '', 120)}`;
    case 'agent.tool_result':
      return `  ${event.ok ? 'ok' : 'failed'}: ${oneLine(event.output, 120)}`;
    case 'agent.usage':
      return `usage: ${event.inputTokens ?? 0} in, ${event.outputTokens ?? 0} out${event.costUsd === undefined ? '' : `, $${event.costUsd.toFixed(4)}`}`;
    case 'log':
      return `${event.level}: ${oneLine(event.message)}`;
  }
}

const COLORS: Record<string, string> = { completed: '32', failed: '31', started: '36' };

/**
 * Progress on stderr in local mode. Not a TTY: one plain line per event. A TTY: coloured
 * lines, with a live footer naming the running step and its elapsed time.
 */
export function createProgressView(stream: NodeJS.WriteStream): {
  onEvent: (event: WorkerEvent) => void;
  close: () => void;
} {
  const stepStarted = new Map<string, number>();
  const timed = (event: WorkerEvent): string => {
    const text = describeEvent(event);
    if (event.type !== 'status') return text;
    if (event.state === 'started') {
      stepStarted.set(event.step, Date.parse(event.ts));
      return text;
    }
    const since = stepStarted.get(event.step);
    return since === undefined ? text : `${text} (${Date.parse(event.ts) - since} ms)`;
  };
  if (!stream.isTTY) {
    return { onEvent: (event) => stream.write(`viberator: ${timed(event)}\n`), close: () => {} };
  }
  let running: { step: string; since: number } | undefined;
  const footer = () => {
    if (!running) return;
    const seconds = ((Date.now() - running.since) / 1000).toFixed(0);
    stream.write(`\x1b[2K\r\x1b[2m… ${running.step} (${seconds}s)\x1b[0m`);
  };
  const timer = setInterval(footer, 1000);
  timer.unref();
  return {
    onEvent(event) {
      stream.write('\x1b[2K\r');
      const text = timed(event);
      const color =
        event.type === 'status'
          ? COLORS[event.state]
          : event.type === 'log' && event.level === 'error'
            ? '31'
            : '0';
      stream.write(`\x1b[${color}m${text}\x1b[0m\n`);
      if (event.type === 'status')
        running = event.state === 'started' ? { step: event.step, since: Date.now() } : undefined;
      footer();
    },
    close() {
      clearInterval(timer);
      stream.write('\x1b[2K\r');
    },
  };
}
