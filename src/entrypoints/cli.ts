#!/usr/bin/env -S node --max-semi-space-size=2
// A small young generation (2 MB semi-spaces): the worker mostly waits on its agent, and a busy
// agent's event stream otherwise lets V8 grow the heap far beyond what it needs (bench/events).
import { writeFile } from 'node:fs/promises';
import { setFlagsFromString } from 'node:v8';
import { Command, Option } from 'commander';
import { readWorkerEnv, type WorkerEnv } from '../config/worker-env.js';
import { type Result, refusedResult } from '../core/result.js';
import { WorkerError } from '../errors.js';
import { jobIdOf, readPayloadText } from '../payload/load.js';
import { buildLocalPayload, type LocalRunFlags } from '../payload/local-payload.js';
import {
  type ValidatedPayload,
  validatePayload,
  validatePayloadText,
} from '../payload/validate.js';
import { VERSION } from '../version.js';
import { listAgents, runDoctor } from './cli-info.js';
import { type EcsPayload, ecsJobIdBeforeLoading, loadEcsPayload } from './ecs-payload.js';
import { executeJob } from './execute-job.js';

// Node's fetch (the GitHub client) parses HTTP with a WebAssembly module that V8 optimises in
// the background, and Node waits for that at exit: about 60 ms per job. The baseline compiler
// is plenty for a few small API answers. Set before the first fetch loads the module.
setFlagsFromString('--liftoff-only');

/** `viberator run`'s options: a payload source, or the flags of a local payload. */
interface RunOptions extends Partial<LocalRunFlags> {
  payload?: string;
  resultFile?: string;
  keepWorkspace?: boolean;
}

async function emitResult(result: Result, resultFile: string | undefined): Promise<void> {
  const text = `${JSON.stringify(result, null, 2)}\n`;
  process.stdout.write(text);
  if (resultFile) await writeFile(resultFile, text, { mode: 0o600 });
}

/**
 * A job refused before it starts (an invalid payload, an invalid worker environment): exit
 * 2 (or `status`), nothing created, no callback; the Result still says why, so scripts always
 * get JSON.
 */
async function rejectJob(
  error: WorkerError,
  jobId: string,
  resultFile: string | undefined,
  status = 2,
): Promise<number> {
  process.stderr.write(`viberator: ${error.message}\n`);
  await emitResult(refusedResult(jobId, error.toFailure()), resultFile);
  return status;
}

/**
 * The jobId for a Result written before the payload is loaded: from a payload in a file or on
 * stdin, else `--job-id`, else `unknown`. No server is contacted just to name the job.
 */
async function jobIdBeforeLoading(options: RunOptions): Promise<string> {
  const source = options.payload;
  if (source && !source.startsWith('s3://')) {
    const text = await readPayloadText(source).catch(() => undefined);
    const jobId = text === undefined ? undefined : jobIdOf(text);
    if (jobId) return jobId;
  }
  return options.jobId ?? 'unknown';
}

/** Exit status of a finished job: an invalid payload is 2 wherever it was found (runtime.md). */
/** Exit 3: the platform never accepted the Result (it was spooled); the job's own status is in it. */
export const EXIT_RESULT_UNDELIVERED = 3;

function exitStatus(result: Result, delivered = true): number {
  if (!delivered) return EXIT_RESULT_UNDELIVERED;
  if (result.status === 'completed') return 0;
  return result.failure?.code === 'invalid_payload' ? 2 : 1;
}

async function run(options: RunOptions): Promise<number> {
  let env: WorkerEnv;
  try {
    env = readWorkerEnv(process.env, Boolean(process.stderr.isTTY));
  } catch (error) {
    // The worker, not the job, is misconfigured: refuse it like an invalid payload.
    if (error instanceof WorkerError)
      return rejectJob(error, await jobIdBeforeLoading(options), options.resultFile);
    throw error;
  }
  let validated: ValidatedPayload;
  let rawJobId = options.jobId ?? 'unknown';
  try {
    if (options.payload) {
      if (options.repo || options.agent || options.prompt) {
        throw new WorkerError(
          'invalid_payload',
          'give either --payload or --repo/--agent/--prompt, not both',
        );
      }
      const text = await readPayloadText(options.payload);
      rawJobId = jobIdOf(text) ?? rawJobId;
      validated = validatePayloadText(text, options.payload === '-' ? 'stdin' : options.payload);
    } else if (options.repo && options.agent && options.prompt) {
      const payload = (await buildLocalPayload({
        ...options,
        repo: options.repo,
        agent: options.agent,
        prompt: options.prompt,
      })) as { jobId: string };
      rawJobId = payload.jobId;
      validated = validatePayload(payload);
    } else {
      throw new WorkerError(
        'invalid_payload',
        'give --payload <path|s3://…|->, or --repo, --agent and --prompt',
      );
    }
  } catch (error) {
    if (error instanceof WorkerError) return rejectJob(error, rawJobId, options.resultFile);
    throw error;
  }
  return runValidated(validated, env, options);
}

/** Runs a validated job, prints its Result, and returns the exit status. */
async function runValidated(
  validated: ValidatedPayload,
  env: WorkerEnv,
  options: { keepWorkspace?: boolean; resultFile?: string; stoppedBefore?: NodeJS.Signals },
): Promise<number> {
  const { result, delivered } = await executeJob(validated, {
    env,
    stderr: process.stderr,
    keepWorkspace: options.keepWorkspace,
    stoppedBefore: options.stoppedBefore,
  });
  await emitResult(result, options.resultFile);
  return exitStatus(result, delivered);
}

/**
 * `viberator ecs`: the ECS task's job, from `VIBERATOR_PAYLOAD` or `VIBERATOR_PAYLOAD_URI`
 * (`VIBERATOR_JOB_ID` must match), run like `run` with the same Result and exit statuses.
 * SIGTERM (the task stopped, a Spot interruption) is handled by executeJob as for `run`. One
 * that arrives while the payload is fetched ends the task at once as `cancelled` (exit 1, the
 * Result on stdout only: no callback is known yet); one just after stops the job at its first
 * step, reported like any other stop.
 */
async function ecs(): Promise<number> {
  let env: WorkerEnv;
  try {
    env = readWorkerEnv(process.env, Boolean(process.stderr.isTTY));
  } catch (error) {
    if (error instanceof WorkerError)
      return rejectJob(error, await ecsJobIdBeforeLoading(process.env), undefined);
    throw error;
  }
  let stoppedBefore: NodeJS.Signals | undefined;
  const early = new AbortController();
  const onEarlySignal = (signal: NodeJS.Signals) => {
    stoppedBefore ??= signal;
    early.abort(signal);
  };
  process.on('SIGTERM', onEarlySignal);
  process.on('SIGINT', onEarlySignal);
  let loaded: EcsPayload;
  try {
    loaded = await loadEcsPayload(process.env, early.signal);
  } finally {
    process.off('SIGTERM', onEarlySignal);
    process.off('SIGINT', onEarlySignal);
  }
  if ('error' in loaded) {
    // Stopped while the payload was fetched: a failed job (exit 1), not an invalid one.
    const status = loaded.error.code === 'cancelled' ? 1 : 2;
    return rejectJob(loaded.error, loaded.jobId, undefined, status);
  }
  return runValidated(loaded.validated, env, { stoppedBefore });
}

const program = new Command()
  .name('viberator')
  .description(
    'Runs an AI coding agent on a ticket: clone, run, commit, push, pull request, report.',
  )
  .version(VERSION)
  .exitOverride();

program
  .command('run')
  .description('run one job, from a payload or from flags')
  .option('--payload <source>', 'payload: a path, s3://bucket/key, or - for stdin')
  .option('--result-file <path>', 'also write the result JSON there')
  .option('--keep-workspace', 'keep the job workspace after the run')
  .option('--repo <url-or-path>', 'repository URL or local path (builds a local payload)')
  .addOption(new Option('--agent <slug>', 'agent slug (see `viberator agents`)'))
  .option('--prompt <text|@file>', 'the prompt, or @file to read it from a file')
  .option('--template <template>', 'prompt template (default ticket_developing)')
  .option('--branch-template <template>', 'branch name template (default viberator/{{ ticket }})')
  .option('--base-branch <branch>', 'base branch (default main)')
  .option('--model <model>', 'model for the agent')
  .option('--base-url <url>', 'model endpoint override')
  .option('--job-id <id>', 'job id (default local-<time>-<random>)')
  .option('--ticket-key <key>', 'ticket key (default LOCAL-1)')
  .option('--ticket-title <title>', "ticket title (default: the prompt's first line)")
  .action(async (options: RunOptions) => {
    process.exitCode = await run(options);
  });

program
  .command('ecs')
  .description(
    'run the job of an ECS task: the payload from VIBERATOR_PAYLOAD or VIBERATOR_PAYLOAD_URI',
  )
  .action(async () => {
    process.exitCode = await ecs();
  });

program
  .command('doctor')
  .description('check the agent CLIs, git and node')
  .action(async () => {
    process.exitCode = await runDoctor(process.env, process.stdout);
  });

program
  .command('agents')
  .description('list the supported agents and their slugs')
  .action(() => {
    listAgents(process.stdout);
  });

try {
  await program.parseAsync(process.argv);
} catch (error) {
  const code = (error as { code?: string; exitCode?: number }).code;
  if (code === 'commander.helpDisplayed' || code === 'commander.version') process.exitCode = 0;
  else if (code?.startsWith('commander.')) process.exitCode = 2;
  else {
    process.stderr.write(`viberator: ${(error as Error).message}\n`);
    process.exitCode = 1;
  }
}

// The Result and every log line are written (stdout and stderr are synchronous for files and
// pipes): exit now rather than wait for timers a library left behind (a retry pause of the
// GitHub client after SIGTERM, keep-alive sockets), which would only delay the exit status.
process.exit();
