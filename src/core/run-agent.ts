import { dirname } from 'node:path';
import type { AgentAdapter, AgentContext } from '../agents/adapter.js';
import { redactingParser } from '../agents/redacting-parser.js';
import type { AgentOutcome } from '../agents/types.js';
import { WorkerError } from '../errors.js';
import type { AgentEvent, LogEvent } from '../events.js';
import type { AgentIdentity } from '../isolation/agent-identity.js';
import { AgentTempCleanup } from '../isolation/agent-temp.js';
import { AGENT_MARKER_VARIABLE, asAgent, newAgentMarker } from '../isolation/run-as-agent.js';
import { type AgentRunHandle, killAgentProcesses, signalAgent } from '../isolation/stop-agent.js';
import { runProcess } from '../process/run-process.js';

/**
 * Kills whatever the agent left running. Running git beside a live agent process would
 * defeat the point: when one cannot be stopped, the job stops here.
 */
async function stopEverything(handle: AgentRunHandle): Promise<void> {
  const survivors = await killAgentProcesses(handle);
  if (survivors.length > 0) {
    throw new WorkerError(
      'internal_error',
      `processes the agent started could not be stopped (pids ${survivors.join(', ')}); nothing was committed or pushed`,
      { retryable: true, step: 'running_agent' },
    );
  }
}

/**
 * Removes what the agent left in the host's shared writable places (runtime.md, "Nothing of a
 * job waits for the next"). Called only once every agent process is gone: a live one could
 * write again. A leftover is logged, not a failure: the job's own work is not at fault.
 */
async function cleanTempFiles(
  temp: AgentTempCleanup,
  emit: (event: LogEvent) => void,
): Promise<void> {
  const problems = await temp.clean();
  if (problems.length > 0) {
    emit({
      type: 'log',
      level: 'warn',
      message: `the agent's files in the shared temp places were not all removed: ${problems.join('; ')}`,
    });
  }
}

export interface AgentRun {
  outcome: AgentOutcome;
  durationMs: number;
}

export interface AgentRunLimits {
  wallClockMs: number;
  /** What set the wall clock, for the message of a timeout (default maxExecutionTime). */
  wallClockSource?: string;
  inactivityMs: number;
  killGraceMs: number;
  /** The kill grace when `signal` stops the agent (the shorter applies). */
  abortGraceMs?: number;
  signal?: AbortSignal;
}

/**
 * Runs the agent CLI as the agent user to the end, turning its output into events as it
 * comes (each line redacted before it is parsed, so no cut can keep part of a secret), and
 * maps how it ended to the worker's codes: a limit hit is `agent_timeout`, SIGTERM to the
 * worker is `cancelled`, a CLI that cannot start is `agent_unavailable`, and a failure the
 * CLI reports (exit code or its own result line) is `agent_failed`. When it returns or
 * throws, every process the agent started is gone — also one that left its process group —
 * and so is what the agent left in the host's shared temp places (see agent-temp.ts).
 */
export async function runAgent(
  adapter: AgentAdapter,
  ctx: AgentContext,
  isolation: {
    identity: AgentIdentity;
    path: string;
    /** The work root (default: the one holding the checkout), never touched by the cleanup. */
    workRoot?: string;
    /**
     * The cleanup of the shared temp places, started earlier (while the repository is
     * cloned, so its first pass costs the job no time); started here when absent.
     */
    tempCleanup?: ReturnType<typeof AgentTempCleanup.start>;
  },
  limits: AgentRunLimits,
  redact: (text: string) => string,
  onRawLine: ((line: string, stream: 'stdout' | 'stderr') => void) | undefined,
  emit: (event: AgentEvent | LogEvent) => void,
): Promise<AgentRun> {
  const parser = redactingParser(adapter.createParser(), redact);
  const command = adapter.command(ctx);
  const handle: AgentRunHandle = {
    identity: isolation.identity,
    marker: newAgentMarker(),
    path: isolation.path,
  };
  const spec = await asAgent(
    isolation.identity,
    { ...command, env: { ...command.env, [AGENT_MARKER_VARIABLE]: handle.marker } },
    ctx.tmpDir,
  );
  // <workRoot>/<jobId>/repo: the workspace layout of workspace.ts.
  const workRoot = isolation.workRoot ?? dirname(dirname(ctx.checkoutDir));
  const temp = await (isolation.tempCleanup ??
    AgentTempCleanup.start({ identity: isolation.identity, workRoot }));
  if (temp.problems.length > 0) {
    emit({
      type: 'log',
      level: 'warn',
      message: `files an earlier agent left in the shared temp places were not all removed: ${temp.problems.join('; ')}`,
    });
  }
  const result = await runProcess(
    spec,
    { ...limits, signalAll: (signal) => signalAgent(handle, signal) },
    (line, stream) => {
      onRawLine?.(line, stream);
      for (const event of parser.line(line, stream)) emit(event);
    },
  ).finally(async () => {
    await stopEverything(handle);
    await cleanTempFiles(temp.cleanup, emit);
  });
  const end = parser.end({ code: result.exitCode, signal: result.signal });
  for (const event of end.events) emit(event);

  if (result.spawnError) {
    throw new WorkerError(
      'agent_unavailable',
      `${adapter.displayName} CLI could not be started (${result.spawnError.code ?? result.spawnError.message}): ${command.file}`,
    );
  }
  if (isolation.identity.mode === 'sudo' && (result.exitCode === 126 || result.exitCode === 127)) {
    // sudo's shell could not exec the CLI: not found or not executable for the agent user.
    throw new WorkerError(
      'agent_unavailable',
      `${adapter.displayName} CLI could not be started as the agent user (exit code ${result.exitCode}): ${command.file} must be readable and executable by ${isolation.identity.label}`,
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
        ? `ran longer than the limit of ${Math.round(limits.wallClockMs / 1000)} s (${limits.wallClockSource ?? 'project.workerSettings.maxExecutionTime'})`
        : `was silent for ${Math.round(limits.inactivityMs / 1000)} s (VIBERATOR_AGENT_INACTIVITY_TIMEOUT)`;
    throw new WorkerError('agent_timeout', `${adapter.displayName} ${why} and was stopped`);
  }
  if (end.outcome.failed || result.exitCode !== 0) {
    const exit = result.signal ? `signal ${result.signal}` : `exit code ${result.exitCode}`;
    const reason = end.outcome.failureReason ?? 'no reason given';
    const advice = end.outcome.credentialsRejected
      ? `; the model API refused the credentials: check the ${ctx.model.keyName} secret${ctx.model.baseUrl ? ` and clanker.baseUrl (${ctx.model.baseUrl})` : ''}`
      : '';
    throw new WorkerError(
      'agent_failed',
      `${adapter.displayName} failed (${exit}): ${reason}${advice}`,
    );
  }
  return { outcome: end.outcome, durationMs: result.durationMs };
}
