import type { AgentAdapter, AgentContext } from '../agents/adapter.js';
import { locateAgentBinary } from '../agents/locate-binary.js';
import { adapterFor } from '../agents/registry.js';
import type { WorkerEnv } from '../config/worker-env.js';
import { toFailure, WorkerError } from '../errors.js';
import type { Step } from '../events.js';
import { renderBranchName } from '../git/branch-name.js';
import { cloneRepository } from '../git/clone.js';
import { commitChanges } from '../git/commit.js';
import { pushBranch } from '../git/push.js';
import type { GitSetup } from '../git/repository.js';
import { secretsInChanges } from '../git/secret-scan.js';
import type { Logger } from '../log.js';
import type { Clanker, Payload } from '../payload/schema.js';
import { phaseOf } from '../payload/templates.js';
import type { ValidatedPayload } from '../payload/validate.js';
import { openPullRequest, preloadGitHubClient } from '../scm/github/pull-request.js';
import { repoSlugFromUrl } from '../scm/github/repo-slug.js';
import type { Redactor } from '../secrets/redactor.js';
import { type ResolvedSecret, resolveSecrets, type SecretProvider } from '../secrets/resolve.js';
import { VERSION } from '../version.js';
import { createWorkspace, type Workspace } from '../workspace/workspace.js';
import { agentBaseEnv } from './agent-environment.js';
import type { EventStream } from './event-stream.js';
import { changeTitle, pullRequestBody } from './pull-request-text.js';
import { addUsage, type Result } from './result.js';
import { runAgent } from './run-agent.js';

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
  /** An upper bound for the agent's wall clock, in ms (Lambda's remaining time less a margin). */
  agentTimeLimitMs?: number;
}

/**
 * Runs one job through the lifecycle of runtime.md, emitting a `status` event as each step
 * starts, completes or fails, and returns the Result. It never throws: every failure is a
 * Result with a code, a message a person can act on, `retryable` and the step.
 */
export async function runJob(options: JobOptions): Promise<Result> {
  const { validated, events } = options;
  const { payload } = validated;
  const logger = options.logger.child({ jobId: payload.jobId });
  const phase = phaseOf(payload.template);
  const started = Date.now();
  const result: Partial<Result> & { jobId: string } = { jobId: payload.jobId, phase };
  let current: Step = 'received';
  let workspace: Workspace | undefined;

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
    const { clanker, adapter, branch } = await step('resolving_config', () =>
      resolveConfig(payload, options),
    );
    result.agent = clanker.agent;
    const secrets = await step('fetching_credentials', () =>
      fetchCredentials(payload, validated, adapter, options),
    );
    const githubToken = secrets.get('GITHUB_TOKEN')?.value;

    const exposed = Object.fromEntries(
      [...secrets.values()]
        .filter((secret) => secret.exposeToAgent)
        .map((secret) => [secret.name, secret.value]),
    );
    const { ws, ctx } = await step('initialising_agent', async () => {
      const binary = await locateAgentBinary(adapter, options.env.agentBins, options.env.host.PATH);
      workspace = await createWorkspace(options.env.workRoot, payload.jobId);
      const ctx: AgentContext = {
        checkoutDir: workspace.checkout,
        homeDir: workspace.home,
        configDir: workspace.agentConfig,
        tmpDir: workspace.tmp,
        binary,
        prompt: payload.prompt,
        model: clanker.model,
        baseUrl: clanker.baseUrl,
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
      return { ws: workspace, ctx };
    });
    const git: GitSetup = {
      source:
        validated.repository.kind === 'remote'
          ? validated.repository.url.href
          : validated.repository.path,
      remoteUrl: validated.repository.kind === 'remote' ? validated.repository.url : undefined,
      token: githubToken,
      author: options.env.gitAuthor,
      hostEnv: options.env.host,
      home: ws.tmp,
    };

    const checkout = await step('cloning', () =>
      cloneRepository(git, ws.checkout, payload.repository.baseBranch, branch),
    );

    if ((phase === 'execution' || phase === 'claw') && validated.repository.kind === 'remote')
      preloadGitHubClient();
    const run = await step('running_agent', () => {
      const configured = payload.project.workerSettings.maxExecutionTime * 1000;
      return runAgent(
        adapter,
        ctx,
        {
          wallClockMs: Math.min(configured, options.agentTimeLimitMs ?? configured),
          inactivityMs: options.env.agentInactivityMs,
          killGraceMs: options.env.killGraceMs,
          signal: options.signal,
        },
        (event) => {
          events.emit(event);
          if (event.type === 'agent.usage') result.usage = addUsage(result.usage, event);
        },
      );
    });
    result.agentDurationMs = run.durationMs;
    if (phase !== 'execution') result.document = run.outcome.finalText ?? '';

    if (phase === 'execution' || phase === 'claw') {
      const commit = await step('committing', async () => {
        const title = changeTitle(payload, clanker);
        const outcome = await commitChanges(git, checkout.dir, checkout.baseSha, title, {
          jobId: payload.jobId,
          agent: clanker.agent,
          clankerId: clanker.id,
        });
        if (outcome.changedFiles.length === 0 && phase === 'execution') {
          throw new WorkerError(
            'no_changes',
            `${adapter.displayName} finished without changing any file, so there is nothing to push or review`,
          );
        }
        return outcome;
      });
      result.changedFiles = commit.changedFiles.length;
      if (commit.changedFiles.length > 0) {
        result.branch = branch;
        result.commitSha = commit.headSha;
        await step('pushing', async () => {
          const leaked = await secretsInChanges(git, checkout.dir, checkout.baseSha, [
            ...secrets.values(),
          ]);
          if (leaked.length > 0) {
            const where = leaked.map(
              (hit) =>
                `${hit.name}${hit.files.length ? ` (in ${hit.files.join(', ')})` : ' (in a commit message or a removed line)'}`,
            );
            throw new WorkerError(
              'push_failed',
              `push refused: the changes contain the value of secret ${where.join(', ')}; nothing was pushed — tell the agent not to write credentials into the repository`,
              { retryable: false },
            );
          }
          await pushBranch(git, checkout.dir, branch, checkout.remoteBranchSha);
        });
        await step('opening_pr', async () => {
          const pr = await openPr(
            payload,
            validated,
            clanker,
            branch,
            githubToken,
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
    await step('reporting', async () => {});
    logger.info('job completed', {
      branch: result.branch,
      prUrl: result.prUrl,
      changedFiles: result.changedFiles,
    });
    return finish(result, started, 'completed', options);
  } catch (error) {
    const failure = toFailure(error, current);
    events.emit({ type: 'status', step: current, state: 'failed' });
    logger.error(failure.message, {
      step: current,
      code: failure.code,
      cause: (error as Error)?.cause,
    });
    return finish({ ...result, failure }, started, 'failed', options);
  } finally {
    if (workspace && !options.keepWorkspace) await workspace.remove();
  }
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

async function resolveConfig(
  payload: Payload,
  options: JobOptions,
): Promise<{ clanker: Clanker; adapter: AgentAdapter; branch: string }> {
  let clanker = payload.clanker;
  if (!clanker) {
    const clankerId = payload.clankerId as string;
    if (!options.fetchClanker) {
      throw new WorkerError(
        'config_unavailable',
        `clanker ${clankerId} cannot be looked up without a platform callback; give the clanker inline in local mode`,
        { retryable: false },
      );
    }
    clanker = await options.fetchClanker(clankerId);
  }
  const adapter = adapterFor(clanker.agent);
  if (!adapter) {
    throw new WorkerError(
      'agent_unavailable',
      `agent ${clanker.agent} is not supported by this worker yet`,
      {
        step: 'resolving_config',
      },
    );
  }
  const rendered = renderBranchName(payload.project.branchNameTemplate, {
    ticket: payload.ticket?.key ?? payload.claw?.key,
    original_ticket: payload.ticket?.originalKey ?? payload.ticket?.key,
    clanker: clanker.name,
  });
  if ('problem' in rendered) {
    throw new WorkerError(
      'invalid_payload',
      `invalid payload: project.branchNameTemplate: ${rendered.problem}`,
      {
        step: 'resolving_config',
      },
    );
  }
  return { clanker, adapter, branch: rendered.branch };
}

async function fetchCredentials(
  payload: Payload,
  validated: ValidatedPayload,
  adapter: AgentAdapter,
  options: JobOptions,
): Promise<Map<string, ResolvedSecret>> {
  const secrets = await resolveSecrets(payload.secrets, options.secretProviders, options.redactor);
  const { anyOf } = adapter.requiredSecrets();
  if (!anyOf.some((name) => secrets.get(name)?.exposeToAgent)) {
    throw new WorkerError(
      'missing_secret',
      `${adapter.displayName} needs ${anyOf.join(' or ')}: add it to the payload's secrets (exposed to the agent)`,
    );
  }
  const pushes = phaseOf(payload.template) === 'execution' || phaseOf(payload.template) === 'claw';
  if (pushes && validated.repository.kind === 'remote' && !secrets.has('GITHUB_TOKEN')) {
    throw new WorkerError(
      'missing_secret',
      "secret GITHUB_TOKEN is needed to push the branch and open the pull request: add it to the payload's secrets",
    );
  }
  return secrets;
}

async function openPr(
  payload: Payload,
  validated: ValidatedPayload,
  clanker: Clanker,
  branch: string,
  token: string | undefined,
  summary: string | undefined,
  changedFiles: string[],
  options: JobOptions,
): Promise<{ url: string; number: number } | undefined> {
  if (validated.repository.kind !== 'remote') {
    options.events.emit({
      type: 'log',
      level: 'info',
      message: `no pull request: the repository is a local path; the branch ${branch} was pushed to it`,
    });
    return undefined;
  }
  const slug = repoSlugFromUrl(validated.repository.url);
  if (!slug || !token) {
    throw new WorkerError(
      'pr_failed',
      `pull request failed: cannot tell owner and repository from ${validated.repository.url.href}`,
      { retryable: false },
    );
  }
  return openPullRequest({
    apiUrl: options.env.githubApiUrl,
    token,
    ...slug,
    head: branch,
    base: payload.project.prBaseBranch ?? payload.repository.baseBranch,
    title: changeTitle(payload, clanker),
    body: options.redactor.text(pullRequestBody({ payload, clanker, summary, changedFiles })),
    userAgent: `viberator-worker/${VERSION}`,
  });
}
