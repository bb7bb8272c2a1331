import type { WorkerEvent } from '../events.js';
import type { Logger } from '../log.js';
import { writeS3Text } from '../payload/s3.js';

/** Most bytes kept of each artifact: a runaway agent must not exhaust the worker's memory. */
const MAX_ARTIFACT_BYTES = 32 * 1024 * 1024;

/**
 * Collects a job's artifacts (payload.md `artifacts.s3Uri`): `transcript.jsonl`, the normalized
 * events as the platform gets them, and `agent.log`, the agent's raw output lines, both
 * redacted before they are kept. They stay in memory (capped) and are uploaded at the end.
 */
export class JobArtifacts {
  private readonly transcript = new CappedText(MAX_ARTIFACT_BYTES);
  private readonly agentLog = new CappedText(MAX_ARTIFACT_BYTES);

  constructor(
    private readonly s3Uri: string,
    private readonly redact: (text: string) => string,
    private readonly logger: Logger,
  ) {}

  /** The EventStream listener (events arrive redacted). */
  readonly onEvent = (event: WorkerEvent): void => {
    this.transcript.append(`${JSON.stringify(event)}\n`);
  };

  /** Each raw line of the agent's stdout and stderr. */
  readonly onAgentLine = (line: string, stream: 'stdout' | 'stderr'): void => {
    this.agentLog.append(`${stream === 'stderr' ? '[stderr] ' : ''}${this.redact(line)}\n`);
  };

  /** Uploads both files; returns the URIs written. A failure is logged, never thrown. */
  async upload(): Promise<string[]> {
    const written: string[] = [];
    for (const [name, text, type] of [
      ['transcript.jsonl', this.transcript, 'application/x-ndjson'],
      ['agent.log', this.agentLog, 'text/plain; charset=utf-8'],
    ] as const) {
      try {
        written.push(await writeS3Text(this.s3Uri, name, this.redact(text.value()), type));
      } catch (error) {
        this.logger.warn(`artifact ${name} could not be uploaded to ${this.s3Uri}`, {
          error: (error as Error).message,
        });
      }
    }
    return written;
  }
}

/** Text with a byte cap: past it, one marker line and nothing more. */
class CappedText {
  private parts: string[] = [];
  private bytes = 0;
  private cut = false;

  constructor(private readonly cap: number) {}

  append(text: string): void {
    if (this.cut) return;
    const size = Buffer.byteLength(text);
    if (this.bytes + size > this.cap) {
      this.cut = true;
      this.parts.push(`… [cut at ${this.cap} bytes]\n`);
      return;
    }
    this.parts.push(text);
    this.bytes += size;
  }

  value(): string {
    return this.parts.join('');
  }
}
