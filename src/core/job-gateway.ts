/**
 * The job's model gateway (runtime.md, "Model gateway" and "Budget"): started before the
 * agent, closed after it. The agent gets the gateway's URL and per-job key through its
 * adapter's `ModelAccess`; the real key stays here. Every metered answer becomes an
 * `agent.usage` event, priced when the model has a price, and counts against the budget.
 */
import type { AgentAdapter, ModelAccess } from '../agents/adapter.js';
import { WorkerError } from '../errors.js';
import type { AgentEvent } from '../events.js';
import { type Budget, BudgetMeter } from '../gateway/budget.js';
import { startGateway } from '../gateway/gateway.js';
import { costUsd, findPrice } from '../gateway/prices.js';
import { proxyFor } from '../gateway/proxy.js';
import type { Clanker } from '../payload/schema.js';

export interface JobGateway {
  /** What the adapter gives its CLI: the gateway's URL and key. */
  access: ModelAccess;
  /**
   * What was used against which cap, once the budget is used up, with the usage metered so
   * far: after `close()`, the job's final usage (the Result's).
   */
  budgetExceeded(): string | undefined;
  /**
   * What the upstream did that explains a failed agent, in words that say what to check:
   * it refused the key (401/403), or it could not be reached.
   */
  upstreamTrouble(): string | undefined;
  /** Closes the gateway once every in-flight answer has been metered (as far as it came). */
  close(): Promise<void>;
}

/** The model a job runs on: the clanker's, else the pinned CLI's default. */
function jobModel(adapter: AgentAdapter, clanker: Clanker): string | undefined {
  return clanker.model ?? adapter.defaultModel;
}

/**
 * A `maxCostUsd` budget needs the job model's price, known before the agent starts: the
 * worker's table (docs/model-gateway.md, "Prices") or `clanker.prices`.
 */
export function checkBudgetPrice(
  adapter: AgentAdapter,
  clanker: Clanker,
  budget: Budget | undefined,
): void {
  if (budget?.maxCostUsd === undefined) return;
  const model = jobModel(adapter, clanker);
  if (!model) {
    throw new WorkerError(
      'invalid_payload',
      `invalid payload: project.workerSettings.budget.maxCostUsd needs the model's price, and ${adapter.displayName}'s default model is not known to the worker: set clanker.model`,
      { step: 'resolving_config' },
    );
  }
  if (!findPrice(model, clanker.prices)) {
    throw new WorkerError(
      'invalid_payload',
      `invalid payload: model ${model} has no price in the worker's table, so project.workerSettings.budget.maxCostUsd cannot be kept: add clanker.prices["${model}"] (USD per million tokens) or use maxTokens`,
      { step: 'resolving_config' },
    );
  }
}

export async function startJobGateway(opts: {
  adapter: AgentAdapter;
  clanker: Clanker;
  modelKey: { name: string; value: string };
  budget: Budget | undefined;
  emit: (event: Extract<AgentEvent, { type: 'agent.usage' }>) => void;
  /** Called once, when a cap is reached: the worker stops the agent. */
  onBudgetReached: () => void;
  log: (message: string) => void;
  /** The worker's host variables: their proxy settings apply to the upstream call. */
  hostEnv: NodeJS.ProcessEnv;
}): Promise<JobGateway> {
  const { adapter, clanker } = opts;
  const endpoint = adapter.modelEndpoint(clanker, opts.modelKey.name);
  const upstream = new URL(endpoint.baseUrl);
  const fallbackModel = jobModel(adapter, clanker);
  const budget = new BudgetMeter(opts.budget);
  let trouble: string | undefined;
  let unmeteredTold = false;
  const where = clanker.baseUrl ? `clanker.baseUrl (${clanker.baseUrl})` : endpoint.baseUrl;
  const gateway = await startGateway({
    // The CLI is given the gateway with the upstream's path (gateway.baseUrl), so each
    // request's path is the upstream's own; the gateway matches the calls after that path.
    upstream: {
      baseUrl: upstream.href,
      provider: endpoint.provider,
      key: opts.modelKey.value,
      keyPlacement: endpoint.keyPlacement,
    },
    proxy: proxyFor(upstream, opts.hostEnv)?.href ?? '',
    onUsage(usage, model) {
      // The answer's own model first (CLIs use small models for side requests), else the job's.
      const price =
        (model && findPrice(model, clanker.prices)) ||
        (fallbackModel && findPrice(fallbackModel, clanker.prices)) ||
        undefined;
      const cost = price ? costUsd(usage, price) : undefined;
      opts.emit({
        type: 'agent.usage',
        ...usage,
        ...(cost === undefined ? {} : { costUsd: cost }),
      });
      if (budget.add(usage, cost)) opts.onBudgetReached();
    },
    // Under a budget, as many model calls at once as the cap can take (BudgetMeter.mayForward).
    ...(opts.budget ? { mayForward: (inFlight: number) => budget.mayForward(inFlight) } : {}),
    refuse: () => {
      const used = budget.exceeded();
      return (
        used && `The job's budget is used up (${used}); the worker refuses further model requests.`
      );
    },
    onUnmetered(path) {
      if (unmeteredTold) return;
      unmeteredTold = true;
      opts.log(
        `a model answer (${path}) carried no token usage: the job's usage${opts.budget ? ' and budget' : ''} cannot count it`,
      );
    },
    onUpstream(outcome) {
      if ('error' in outcome) {
        trouble = `the model endpoint ${where} could not be reached (${outcome.error.message})`;
      } else if (outcome.status === 401 || outcome.status === 403) {
        trouble = `the model API refused the key (HTTP ${outcome.status}): check the ${opts.modelKey.name} secret${clanker.baseUrl ? ` and clanker.baseUrl (${clanker.baseUrl})` : ''}`;
      } else if (outcome.status < 400) {
        trouble = undefined;
      }
    },
    onRefused(why, method, path) {
      if (why === 'not_model_call')
        opts.log(`the model gateway refused ${method} ${path}: not a model call`);
    },
  });
  return {
    access: {
      keyName: opts.modelKey.name,
      key: gateway.key,
      baseUrl: gateway.baseUrl,
      model: clanker.model,
    },
    // Asked once the gateway has closed (every answer metered), it states the final usage.
    budgetExceeded: () => budget.exceeded(),
    upstreamTrouble: () => trouble,
    close: () => gateway.close(),
  };
}
