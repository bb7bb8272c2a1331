/**
 * Kimi Code prints no token usage in `--output-format stream-json`, but records every model
 * turn in its session log, `$KIMI_CODE_HOME/sessions/<dir>/<session>/agents/<agent>/wire.jsonl`,
 * as `{"type":"usage.record","usage":{"inputOther","output","inputCacheRead",
 * "inputCacheCreation"},"usageScope":"turn"}` lines (subagents in their own folders). The
 * worker sums them once the run is over.
 */
import type { AgentUsage } from '../adapter.js';
import { findAgentFiles, readAgentFile } from '../agent-files.js';
import { isObject, num } from '../parsing.js';

/** A session log larger than this is not read (a real one stays far below). */
const LOG_LIMIT = 64 * 1024 * 1024;

export async function kimiSessionUsage(kimiHome: string): Promise<AgentUsage | undefined> {
  const totals = { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 };
  let records = 0;
  for (const log of await findAgentFiles(`${kimiHome}/sessions`, 'wire.jsonl', 4)) {
    const text = await readAgentFile(log, LOG_LIMIT);
    for (const line of text?.split('\n') ?? []) {
      if (!line.includes('"usage.record"')) continue;
      let record: unknown;
      try {
        record = JSON.parse(line);
      } catch {
        continue;
      }
      if (!isObject(record) || record.type !== 'usage.record' || !isObject(record.usage)) continue;
      if (record.usageScope !== undefined && record.usageScope !== 'turn') continue;
      const usage = record.usage;
      totals.inputTokens += num(usage.inputOther) ?? 0;
      totals.outputTokens += num(usage.output) ?? 0;
      totals.cacheReadTokens += num(usage.inputCacheRead) ?? 0;
      totals.cacheWriteTokens += num(usage.inputCacheCreation) ?? 0;
      records++;
    }
  }
  return records === 0 ? undefined : { type: 'agent.usage', ...totals };
}
