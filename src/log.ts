import winston from 'winston';
import type { Redactor } from './secrets/redactor.js';

export type Logger = winston.Logger;

/**
 * The one logger: JSON lines or pretty text on stderr (stdout carries the Result), with
 * every line passed through the job's redactor — message, metadata and error stacks.
 */
export function createLogger(opts: {
  level: string;
  format: 'json' | 'pretty';
  redactor: Redactor;
  stream?: NodeJS.WritableStream;
}): Logger {
  const redact = winston.format((info) => {
    for (const key of Reflect.ownKeys(info)) {
      if (typeof key !== 'string') continue;
      info[key] = opts.redactor.value(info[key]);
    }
    return info;
  });
  const shape =
    opts.format === 'json'
      ? winston.format.json()
      : winston.format.printf(({ level, message, timestamp, ...meta }) => {
          const context = Object.entries(meta)
            .filter(([key]) => key !== 'service')
            .map(
              ([key, value]) =>
                `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`,
            )
            .join(' ');
          return `${String(timestamp)} ${level} ${String(message)}${context ? ` ${context}` : ''}`;
        });
  return winston.createLogger({
    level: opts.level,
    format: winston.format.combine(
      winston.format.errors({ stack: true }),
      winston.format.timestamp(),
      redact(),
      shape,
    ),
    transports: [new winston.transports.Stream({ stream: opts.stream ?? process.stderr })],
  });
}
