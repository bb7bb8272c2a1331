import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AgentContext } from '../agents/adapter.js';
import { locateAgent } from '../agents/locate-binary.js';
import type { WorkerEnv } from '../config/worker-env.js';
import { toFailure, WorkerError } from '../errors.js';
import type { Step } from '../events.js';
import { checkOutForAgent } from '../git/agent-checkout.js';
import { quotePath } from '../git/change-limits.js';
import { cloneRepository } from '../git/clone.js';
import { pushBranch } from '../git/push.js';
import type { GitSetup } from '../git/repository.js';
import { refuseSecretsInChange } from '../git/secret-scan.js';
import { takeAgentChange } from '../git/take-agent-change.js';
import { WorkerGitDir } from '../git/worker-git-dir.js';
import { AgentTempCleanup } from '../isolation/agent-temp.js';
import { handOverToAgent } from '../isolation/hand-over.js';
import type { Logger } from '../log.js';
import type { Clanker } from '../payload/schema.js';
import { phaseOf } from '../payload/templates.js';
import type { ValidatedPayload } from '../payload/validate.js';
import { scmProviderFor } from '../scm/registry.js';
import type { Redactor } from '../secrets/redactor.js';
import type { SecretProvider } from '../secrets/resolve.js';
import { createWorkspace, type Workspace } from '../workspace/workspace.js';
import { agentBaseEnv } from './agent-environment.js';
import { agentIdentityFor } from './agent-identity-step.js';
import type { EventStream } from './event-stream.js';
import { fetchCredentials } from './fetch-credentials.js';
import { checkBudgetPrice, type JobGateway, startJobGateway } from './job-gateway.js';
import { openPr } from './open-pull-request-step.js';
import { changeTitle } from './pull-request-text.js';
import { resolveConfig } from './resolve-config.js';
import { addUsage, type Result } from './result.js';
import { runAgent } from './run-agent.js';
import { stageCheckoutFiles } from './stage-checkout-files.js';
import { STOP_KILL_GRACE_MS, stopFailure } from './stop-request.js';

/** Everything one job needs; entry points build it, the core never reads process.env. */
export interface JobOptions {
  validated: ValidatedPayload;
  env: WorkerEnv;
  redactor: Redactor;
  events: EventStream;
  logger: Logger;
  secretProviders: SecretProvider[];
  /** Resolves `clankerId` through the platform; absent in local mode. */
  fetchClanker?: (clankerId: string) => Promise<Clanker>;
  /** Aborted when the worker is asked to stop (SIGTERM). */
  signal?: AbortSignal;
  keepWorkspace?: boolean;
  /**
   * When the agent must be stopped at the latest, epoch ms (Lambda: the invocation's deadline
   * less a safety margin). A deadline rather than a duration: the clone before the agent
   * spends the same invocation time.
   */
  agentDeadline?: number;
  /**
   * The platform's side of the `reporting` step, after the workspace is gone: `deliver` sends
   * the events so far and the Result (resolves whether the Result was accepted; never
   * throws), `close` sends the last events and spools what could not be delivered.
   */
  report?: { deliver(result: Result): Promise<boolean>; close(): Promise<void> };
  /** `artifacts.s3Uri`'s collector: told every raw agent line, uploaded before reporting. */
  artifacts?: {
    onAgentLine(line: string, stream: 'stdout' | 'stderr'): void;
    upload(): Promise<string[]>;
  };
}

/**
 * Runs one job through the lifecycle of runtime.md, emitting a `status` event as each step
 * starts, completes or fails, and returns the Result. It never throws: every failure is a
 * Result with a code, a message a person can act on, `retryable` and the step.
 */
export async function runJob(options: JobOptions): Promise<Result> {
  const outcome = await runSteps(options);
  if (options.artifacts) {
    const uris = await options.artifacts.upload();
    if (uris.length > 0) outcome.artifacts = uris;
  }
  if (!options.report) return outcome;
  // The reporting step really reports: the Result is delivered (or spooled) inside it.
  options.events.emit({ type: 'status', step: 'reporting', state: 'started' });
  const delivered = await options.report.deliver(outcome);
  options.events.emit({
    type: 'status',
    step: 'reporting',
    state: delivered ? 'completed' : 'failed',
  });
  await options.report.close();
  return outcome;
}

async function runSteps(options: JobOptions): Promise<Result> {
  const { validated, events } = options;
  const { payload } = validated;
  const logger = options.logger.child({ jobId: payload.jobId });
  const phase = phaseOf(payload.template);
  const started = Date.now();
  const result: Partial<Result> & { jobId: string } = { jobId: payload.jobId, phase };
  let current: Step = 'received';
  let workspace: Workspace | undefined;
  let gateway: JobGateway | undefined;
  // Awaited whatever happens: none of the agent user's processes outlives the job.
  let tempCleanupStarted: Promise<unknown> | undefined;
  // Stops the agent: the worker asked to stop (SIGTERM), or the budget is used up.
  const agentStop = new AbortController();
  const stopAgent = () => agentStop.abort();
  options.signal?.addEventListener('abort', stopAgent, { once: true });

  const step = async <T>(name: Step, work: () => Promise<T>): Promise<T> => {
    if (options.signal?.aborted)
      throw new WorkerError('cancelled', 'the worker was asked to stop (SIGTERM)', {
        step: current,
      });
    current = name;
    const stepStarted = Date.now();
    events.emit({ type: 'status', step: name, state: 'started' });
    const value = await work();
    events.emit({ type: 'status', step: name, state: 'completed' });
    logger.debug('step completed', { step: name, ms: Date.now() - stepStarted });
    return value;
  };

  logger.info('job started', {
    template: payload.template,
    phase,
    repository:
      validated.repository.kind === 'remote'
        ? validated.repository.url.href
        : validated.repository.path,
  });
  try {
    await step('received', async () => {});
    const budget = payload.project.workerSettings.budget;
    const { clanker, adapter, branch } = await step('resolving_config', async () => {
      const resolved = await resolveConfig(payload, options.fetchClanker);
      checkBudgetPrice(resolved.adapter, resolved.clanker, budget);
      return resolved;
    });
    result.agent = clanker.agent;
    const scm = scmProviderFor({
      provider: payload.repository.provider,
      url: validated.repository.kind === 'remote' ? validated.repository.url : undefined,
    });
    const { secrets, modelKey } = await step('fetching_credentials', () =>
      fetchCredentials(
        payload,
        validated,
        adapter,
        clanker,
        scm,
        options.secretProviders,
        options.redactor,
        (message) => logger.info(message),
      ),
    );
    const scmToken = secrets.get(scm.tokenSecret)?.value;

    // The model key never reaches the agent: the job's gateway holds it, and the adapter's
    // one seam (ModelAccess) carries the gateway's URL and per-job key instead.
    const modelKeyNames = new Set(adapter.modelKeys(clanker));
    const exposed = Object.fromEntries(
      [...secrets.values()]
        .filter((secret) => secret.exposeToAgent && !modelKeyNames.has(secret.name))
        .map((secret) => [secret.name, secret.value]),
    );
    const maxExecutionMs = payload.project.workerSettings.maxExecutionTime * 1000;
    /** The agent's limit from now: min(maxExecutionTime, time left before the deadline). */
    const agentLimit = () => {
      const left = (options.agentDeadline ?? Number.POSITIVE_INFINITY) - Date.now();
      return left < maxExecutionMs
        ? {
            wallClockMs: Math.max(0, left),
            wallClockSource: "the invocation's remaining time less the safety margin",
          }
        : {
            wallClockMs: maxExecutionMs,
            wallClockSource: 'project.workerSettings.maxExecutionTime',
          };
    };
    // The CLIs that take a limit of their own get it now; the worker's timer starts at spawn.
    const wallClockMs = agentLimit().wallClockMs;
    const { ws, ctx, identity, placed, jobGateway } = await step('initialising_agent', async () => {
      const located = await locateAgent(adapter, options.env.agentSearch);
      const identity = await agentIdentityFor(options.env, logger);
      const jobGateway = await startJobGateway({
        adapter,
        clanker,
        modelKey,
        budget,
        emit: (usage) => {
          events.emit(usage);
          result.usage = addUsage(result.usage, usage);
        },
        onBudgetReached: () => agentStop.abort(),
        log: (message) => logger.warn(message),
        hostEnv: options.env.host,
      });
      gateway = jobGateway;
      // Worth nothing once the job is over, but it is a key: it never shows in output either.
      options.redactor.add(jobGateway.access.key, "the job's model gateway key");
      workspace = await createWorkspace(options.env.workRoot, payload.jobId, identity, {
        log: (message) => logger.warn(message),
      });
      const ctx: AgentContext = {
        checkoutDir: workspace.checkout,
        homeDir: workspace.home,
        configDir: workspace.agentConfig,
        tmpDir: workspace.tmp,
        binary: located.binary,
        launcher: located.launcher,
        prompt: payload.prompt,
        promptFile: join(workspace.agentConfig, 'prompt.md'),
        phase,
        timeLimitMs: wallClockMs,
        model: jobGateway.access,
        clanker,
        agentsMd: clanker.agentsMd,
        skills: clanker.skills ?? [],
        baseEnv: agentBaseEnv({
          host: options.env.host,
          home: workspace.home,
          tmp: workspace.tmp,
          exposedSecrets: exposed,
        }),
      };
      await adapter.prepare(ctx);
      if (adapter.promptInFile) await writeFile(ctx.promptFile, ctx.prompt, { mode: 0o600 });
      const placed = await stageCheckoutFiles(
        adapter.checkoutFiles?.(ctx) ?? [],
        workspace.agentConfig,
      );
      await handOverToAgent(identity, workspace.agentConfig);
      return { ws: workspace, ctx, identity, placed, jobGateway };
    });
    const git: GitSetup = {
      source:
        validated.repository.kind === 'remote'
          ? validated.repository.url.href
          : validated.repository.path,
      remoteUrl: validated.repository.kind === 'remote' ? validated.repository.url : undefined,
      token: scmToken,
      tokenSecret: scm.tokenSecret,
      gitUsername: scm.gitUsername,
      author: options.env.gitAuthor,
      hostEnv: options.env.host,
      home: join(ws.worker, 'home'),
      gitDir: ws.gitDir,
      workTree: ws.checkout,
      limits: options.env.gitLimits,
      signal: options.signal,
    };

    // What an earlier agent of this user left in the shared temp places goes while the
    // repository is cloned (runtime.md, "Nothing of a job waits for the next").
    const tempCleanup = AgentTempCleanup.start({ identity, workRoot: options.env.workRoot });
    tempCleanupStarted = tempCleanup.catch(() => undefined);
    const { checkout, gitDirState } = await step('cloning', async () => {
      const checkout = await cloneRepository(git, ws.worker, payload.repository.baseBranch, branch);
      const gitDirState = await WorkerGitDir.capture(ws.gitDir);
      await checkOutForAgent(git, identity, {
        workBranch: branch,
        baseSha: checkout.baseSha,
        agentTmp: ws.tmp,
        placed,
      });
      return { checkout, gitDirState };
    });

    if ((phase === 'execution' || phase === 'claw') && validated.repository.kind === 'remote')
      scm.preload?.();
    const run = await step('running_agent', () =>
      runAgentWithinBudget(
        jobGateway,
        adapter,
        ctx,
        { identity, path: options.env.host.PATH ?? '/usr/bin:/bin', tempCleanup },
        {
          ...agentLimit(),
          inactivityMs: options.env.agentInactivityMs,
          killGraceMs: options.env.killGraceMs,
          abortGraceMs: STOP_KILL_GRACE_MS,
          signal: agentStop.signal,
        },
        (text) => options.redactor.text(text),
        options.artifacts?.onAgentLine,
        (event) => {
          // Usage is the gateway's, from the wire, the same for every agent: what a CLI
          // says of its own usage is not reported twice.
          if (event.type !== 'agent.usage') events.emit(event);
        },
      ),
    );
    result.agentDurationMs = run.durationMs;
    if (phase !== 'execution') result.document = run.outcome.finalText ?? '';

    if (phase === 'execution' || phase === 'claw') {
      const commit = await step('committing', async () => {
        // Every agent process is gone (runAgent saw to it); what it left is data from here on.
        await gitDirState.restore();
        const taken = await takeAgentChange({
          setup: git,
          identity,
          workspaceRoot: ws.root,
          baseSha: checkout.baseSha,
          subject: changeTitle(payload, clanker),
          commitIdentity: { jobId: payload.jobId, agent: clanker.agent, clankerId: clanker.id },
          exclude: placed.paths,
          limits: options.env.changeLimits,
        });
        // Said in the job's events too: the platform and the transcript show what was left out.
        const leftOut = [
          ...taken.special.map((path) => `${quotePath(path)} is a FIFO, socket or device`),
          ...taken.nested.map(
            (path) => `${quotePath(path)} holds a nested git repository; nothing under it is taken`,
          ),
        ];
        for (const why of leftOut)
          events.emit({ type: 'log', level: 'warn', message: `not committed: ${why}` });
        if (taken.changedFiles.length === 0 && phase === 'execution') {
          throw new WorkerError(
            'no_changes',
            `${adapter.displayName} finished without changing any file, so there is nothing to push or review`,
          );
        }
        return taken;
      });
      result.changedFiles = commit.changedFiles.length;
      if (commit.changedFiles.length > 0) {
        result.branch = branch;
        result.commitSha = commit.headSha;
        await step('pushing', async () => {
          await refuseSecretsInChange(
            git,
            commit.entries,
            commit.message,
            options.redactor.secrets(),
          );
          await pushBranch(git, branch, checkout.remoteBranchSha, commit.headSha);
        });
        await step('opening_pr', async () => {
          const pr = await openPr(
            scm,
            payload,
            validated,
            clanker,
            branch,
            scmToken ?? '',
            run.outcome.finalText,
            commit.changedFiles,
            options,
          );
          if (pr) {
            result.prUrl = pr.url;
            result.prNumber = pr.number;
          }
        });
      }
    }
    if (!options.report) await step('reporting', async () => {});
    logger.info('job completed', {
      branch: result.branch,
      prUrl: result.prUrl,
      changedFiles: result.changedFiles,
    });
    return finish(result, started, 'completed', options);
  } catch (error) {
    const failure = stopFailure(toFailure(error, current), options.signal);
    events.emit({ type: 'status', step: current, state: 'failed' });
    logger.error(failure.message, {
      step: current,
      code: failure.code,
      cause: (error as Error)?.cause,
    });
    return finish({ ...result, failure }, started, 'failed', options);
  } finally {
    options.signal?.removeEventListener('abort', stopAgent);
    await tempCleanupStarted;
    await gateway?.close();
    if (workspace && !options.keepWorkspace) {
      await workspace
        .remove()
        .catch((error: unknown) =>
          logger.warn('the job workspace could not be removed', { error }),
        );
    }
  }
}

/**
 * Runs the agent; the prompt file (when the CLI needed one) goes when the agent has ended,
 * and so does the gateway. A budget used up ends the job as `budget_exceeded`, however the
 * agent took the refusals (stopped by the worker, or failing on its own first).
 */
async function runAgentWithinBudget(
  gateway: JobGateway,
  ...args: Parameters<typeof runAgent>
): ReturnType<typeof runAgent> {
  let run: Awaited<ReturnType<typeof runAgent>> | undefined;
  let failure: unknown;
  try {
    run = await runAgent(...args);
  } catch (error) {
    failure = error;
  } finally {
    await gateway.close();
    // Best effort: a sudo-mode worker may not remove a file of the agent's; the workspace
    // removal at the end does.
    await rm(args[1].promptFile, { force: true }).catch(() => {});
  }
  const exceeded = gateway.budgetExceeded();
  if (exceeded) {
    throw new WorkerError(
      'budget_exceeded',
      `the job's budget is used up: ${exceeded}; ${args[0].displayName} was stopped and nothing was pushed`,
    );
  }
  const trouble = gateway.upstreamTrouble();
  if (
    failure instanceof WorkerError &&
    failure.code === 'agent_failed' &&
    trouble &&
    !failure.message.includes(args[1].model.keyName)
  ) {
    // The gateway saw what the CLI may have worded vaguely (or not at all).
    throw new WorkerError('agent_failed', `${failure.message}; ${trouble}`, { cause: failure });
  }
  if (failure !== undefined || !run) throw failure;
  return run;
}

function finish(
  result: Partial<Result> & { jobId: string },
  started: number,
  status: Result['status'],
  options: JobOptions,
): Result {
  const finished = Date.now();
  const { jobId, ...rest } = result;
  return options.redactor.value({
    jobId,
    status,
    ...rest,
    startedAt: new Date(started).toISOString(),
    finishedAt: new Date(finished).toISOString(),
    durationMs: finished - started,
  });
}
