import type { AgentSlug } from '../agents/types.js';
import type { Failure } from '../errors.js';
import type { Phase } from '../payload/templates.js';

export interface Usage {
  inputTokens?: number;
  outputTokens?: number;
  cacheReadTokens?: number;
  cacheWriteTokens?: number;
  costUsd?: number;
}

/** The Result of platform-api.md. */
export interface Result {
  jobId: string;
  status: 'completed' | 'failed';
  phase?: Phase;
  agent?: AgentSlug;
  branch?: string;
  commitSha?: string;
  prUrl?: string;
  prNumber?: number;
  document?: string;
  changedFiles?: number;
  usage?: Usage;
  artifacts?: string[];
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  agentDurationMs?: number;
  failure?: Failure;
}

/** Adds one usage increment to a running total; absent fields stay absent. */
export function addUsage(total: Usage | undefined, increment: Usage): Usage {
  const sum: Usage = { ...total };
  for (const key of [
    'inputTokens',
    'outputTokens',
    'cacheReadTokens',
    'cacheWriteTokens',
    'costUsd',
  ] as const) {
    const value = increment[key];
    if (typeof value === 'number') sum[key] = (sum[key] ?? 0) + value;
  }
  return sum;
}

/** The Result of a job refused before it started (invalid payload or environment). */
export function refusedResult(jobId: string, failure: Failure): Result {
  const now = new Date().toISOString();
  return { jobId, status: 'failed', startedAt: now, finishedAt: now, durationMs: 0, failure };
}
