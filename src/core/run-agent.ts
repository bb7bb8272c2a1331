import type { AgentAdapter, AgentContext } from '../agents/adapter.js';
import type { AgentOutcome } from '../agents/types.js';
import { WorkerError } from '../errors.js';
import type { AgentEvent } from '../events.js';
import { runProcess } from '../process/run-process.js';

export interface AgentRun {
  outcome: AgentOutcome;
  durationMs: number;
}

/**
 * Runs the agent CLI to the end, turning its output into events as it comes, and maps how
 * it ended to the worker's codes: a limit hit is `agent_timeout`, SIGTERM to the worker is
 * `cancelled`, a CLI that cannot start is `agent_unavailable`, and a failure the CLI reports
 * (exit code or its own result line) is `agent_failed`.
 */
export async function runAgent(
  adapter: AgentAdapter,
  ctx: AgentContext,
  limits: { wallClockMs: number; inactivityMs: number; killGraceMs: number; signal?: AbortSignal },
  emit: (event: AgentEvent) => void,
): Promise<AgentRun> {
  const parser = adapter.createParser();
  const spec = adapter.command(ctx);
  const result = await runProcess(spec, limits, (line, stream) => {
    for (const event of parser.line(line, stream)) emit(event);
  });
  const end = parser.end({ code: result.exitCode, signal: result.signal });
  for (const event of end.events) emit(event);

  if (result.spawnError) {
    throw new WorkerError(
      'agent_unavailable',
      `${adapter.displayName} CLI could not be started (${result.spawnError.code ?? result.spawnError.message}): ${spec.file}`,
    );
  }
  if (result.stoppedBy === 'aborted') {
    throw new WorkerError(
      'cancelled',
      'the worker was asked to stop (SIGTERM); the agent was stopped',
      {
        step: 'running_agent',
      },
    );
  }
  if (result.stoppedBy) {
    const why =
      result.stoppedBy === 'wall_clock'
        ? `ran longer than the limit of ${Math.round(limits.wallClockMs / 1000)} s (project.workerSettings.maxExecutionTime)`
        : `was silent for ${Math.round(limits.inactivityMs / 1000)} s (VIBERATOR_AGENT_INACTIVITY_TIMEOUT)`;
    throw new WorkerError('agent_timeout', `${adapter.displayName} ${why} and was stopped`);
  }
  if (end.outcome.failed || result.exitCode !== 0) {
    const exit = result.signal ? `signal ${result.signal}` : `exit code ${result.exitCode}`;
    const reason = end.outcome.failureReason ?? 'no reason given';
    const advice = end.outcome.credentialsRejected
      ? `; the model API refused the credentials: check the ${adapter.requiredSecrets().anyOf.join(' or ')} secret${ctx.baseUrl ? ` and clanker.baseUrl (${ctx.baseUrl})` : ''}`
      : '';
    throw new WorkerError(
      'agent_failed',
      `${adapter.displayName} failed (${exit}): ${reason}${advice}`,
    );
  }
  return { outcome: end.outcome, durationMs: result.durationMs };
}
