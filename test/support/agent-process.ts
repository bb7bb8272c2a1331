import { type ProcessInfo, processesWithEnvMarker, waitFor } from './processes.js';
import { type CliRun, runCli } from './run-cli.js';

/**
 * Runs a job whose model hangs, waits for the real agent process to appear (found by its
 * environment, which names the job's unique work root), sends the worker SIGTERM, and returns
 * what the agent process looked like and how the worker ended.
 */
export async function captureAgentThenCancel(
  payload: unknown,
  env: NodeJS.ProcessEnv & { VIBERATOR_WORK_ROOT: string },
): Promise<{ agent: ProcessInfo; run: CliRun }> {
  let workerPid = 0;
  const pending = runCli(['run', '--payload', '-'], {
    env: { VIBERATOR_KILL_GRACE: '1', ...env },
    stdin: JSON.stringify(payload),
    onSpawn: (pid) => {
      workerPid = pid;
    },
  });
  const agent = await waitFor(
    async () =>
      (await processesWithEnvMarker(env.VIBERATOR_WORK_ROOT)).find(
        (p) => p.environ.CLAUDE_CONFIG_DIR,
      ),
    30_000,
    'the agent process',
  );
  process.kill(workerPid, 'SIGTERM');
  return { agent, run: await pending };
}
