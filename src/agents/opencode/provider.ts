import { WorkerError } from '../../errors.js';
import type { Provider } from '../../gateway/types.js';
import type { Clanker } from '../../payload/schema.js';
import type { ModelEndpoint } from '../adapter.js';

/**
 * How a clanker's `model` and `baseUrl` map to an OpenCode provider:
 * - `provider/model` names one of OpenCode's providers (`anthropic/claude-sonnet-4-5`,
 *   `openrouter/meta-llama/llama-3.3-70b`); its own SDK and wire are used, at `baseUrl`
 *   when the clanker gives one;
 * - a bare model with a `baseUrl` (`llama3`, `meta-llama/Llama-3-8B` on a vLLM) goes to
 *   {@link CUSTOM_PROVIDER}, an OpenAI-compatible (Chat Completions) provider at that URL;
 * - a bare model without one is an OpenAI model (OpenCode's `openai` provider).
 * A prefix OpenCode does not know is taken as its provider when there is no `baseUrl`.
 */
export interface OpencodeProvider {
  /** OpenCode's provider id, e.g. `openai` or {@link CUSTOM_PROVIDER}. */
  id: string;
  /** The model id within the provider; absent when the clanker names none. */
  model?: string;
  /** True for the OpenAI-compatible provider defined for `clanker.baseUrl`. */
  custom: boolean;
}

/** The OpenAI-compatible provider a bare model with a `clanker.baseUrl` is served by. */
export const CUSTOM_PROVIDER = 'viberator';

/**
 * OpenCode's providers that take one API key: the variables it reads the key from (its
 * bundled model catalogue), the preferred payload secret name first; the wire its SDK
 * speaks; and the SDK's default base URL, the gateway's upstream when the clanker names none
 * (read from the catalogue and SDKs bundled in opencode-ai 1.18.33).
 */
const PROVIDERS = new Map<string, { keys: string[]; wire: Provider; baseUrl: string }>(
  Object.entries({
    openai: { keys: ['OPENAI_API_KEY'], wire: 'openai', baseUrl: 'https://api.openai.com/v1' },
    anthropic: {
      keys: ['ANTHROPIC_API_KEY'],
      wire: 'anthropic',
      baseUrl: 'https://api.anthropic.com/v1',
    },
    google: {
      keys: ['GEMINI_API_KEY', 'GOOGLE_GENERATIVE_AI_API_KEY', 'GOOGLE_API_KEY'],
      wire: 'gemini',
      baseUrl: 'https://generativelanguage.googleapis.com/v1beta',
    },
    openrouter: {
      keys: ['OPENROUTER_API_KEY'],
      wire: 'openai',
      baseUrl: 'https://openrouter.ai/api/v1',
    },
    groq: { keys: ['GROQ_API_KEY'], wire: 'openai', baseUrl: 'https://api.groq.com/openai/v1' },
    mistral: { keys: ['MISTRAL_API_KEY'], wire: 'openai', baseUrl: 'https://api.mistral.ai/v1' },
    deepseek: {
      keys: ['DEEPSEEK_API_KEY'],
      wire: 'openai',
      baseUrl: 'https://api.deepseek.com',
    },
    xai: { keys: ['XAI_API_KEY'], wire: 'openai', baseUrl: 'https://api.x.ai/v1' },
    togetherai: {
      keys: ['TOGETHER_API_KEY'],
      wire: 'openai',
      baseUrl: 'https://api.together.xyz/v1',
    },
    'fireworks-ai': {
      keys: ['FIREWORKS_API_KEY'],
      wire: 'openai',
      baseUrl: 'https://api.fireworks.ai/inference/v1',
    },
    cerebras: { keys: ['CEREBRAS_API_KEY'], wire: 'openai', baseUrl: 'https://api.cerebras.ai/v1' },
    deepinfra: {
      keys: ['DEEPINFRA_API_KEY'],
      wire: 'openai',
      baseUrl: 'https://api.deepinfra.com/v1',
    },
    perplexity: {
      keys: ['PERPLEXITY_API_KEY'],
      wire: 'openai',
      baseUrl: 'https://api.perplexity.ai',
    },
    moonshotai: {
      keys: ['MOONSHOT_API_KEY'],
      wire: 'openai',
      baseUrl: 'https://api.moonshot.ai/v1',
    },
    alibaba: {
      keys: ['DASHSCOPE_API_KEY'],
      wire: 'openai',
      baseUrl: 'https://dashscope-intl.aliyuncs.com/compatible-mode/v1',
    },
    zai: { keys: ['ZHIPU_API_KEY'], wire: 'openai', baseUrl: 'https://api.z.ai/api/paas/v4' },
    // Zen speaks a different wire per model; through the gateway, its OpenAI-wire models.
    opencode: { keys: ['OPENCODE_API_KEY'], wire: 'openai', baseUrl: 'https://opencode.ai/zen/v1' },
  } satisfies Record<string, { keys: string[]; wire: Provider; baseUrl: string }>),
);

/** The provider and model a clanker asks for (see {@link OpencodeProvider}). */
export function opencodeProvider(clanker: Pick<Clanker, 'model' | 'baseUrl'>): OpencodeProvider {
  const { model, baseUrl } = clanker;
  if (!model)
    return baseUrl ? { id: CUSTOM_PROVIDER, custom: true } : { id: 'openai', custom: false };
  const slash = model.indexOf('/');
  const prefix = slash > 0 ? model.slice(0, slash) : undefined;
  const rest = model.slice(slash + 1);
  if (prefix && rest && (PROVIDERS.has(prefix) || !baseUrl)) {
    return { id: prefix, model: rest, custom: false };
  }
  if (baseUrl) return { id: CUSTOM_PROVIDER, model, custom: true };
  return { id: 'openai', model, custom: false };
}

/**
 * The payload secrets accepted as the key of the clanker's provider. The configuration
 * names the variable the key comes in (`{env:NAME}`), so any of them works, whatever OpenCode
 * itself would look for; a provider outside the table gets the conventional `<ID>_API_KEY`.
 */
export function opencodeModelKeys(clanker: Pick<Clanker, 'model' | 'baseUrl'>): string[] {
  const provider = opencodeProvider(clanker);
  if (provider.custom) return ['OPENAI_API_KEY'];
  return (
    PROVIDERS.get(provider.id)?.keys ?? [
      `${provider.id.toUpperCase().replace(/[^A-Z0-9]+/g, '_')}_API_KEY`,
    ]
  );
}

/**
 * The gateway's upstream for the clanker's provider: `clanker.baseUrl` (an OpenAI-compatible
 * endpoint for the custom provider, or the named provider's own wire), else the provider's
 * default. A provider outside the table has no endpoint the worker knows: it needs
 * `clanker.baseUrl`.
 */
export function opencodeEndpoint(clanker: Pick<Clanker, 'model' | 'baseUrl'>): ModelEndpoint {
  const provider = opencodeProvider(clanker);
  if (provider.custom && !provider.model) {
    throw new WorkerError(
      'invalid_payload',
      `invalid payload: clanker.model is required for OpenCode with clanker.baseUrl (the ${CUSTOM_PROVIDER} provider at ${clanker.baseUrl} has no default model)`,
      { step: 'initialising_agent' },
    );
  }
  const known = PROVIDERS.get(provider.id);
  const baseUrl = clanker.baseUrl ?? known?.baseUrl;
  if (!baseUrl) {
    throw new WorkerError(
      'invalid_payload',
      `invalid payload: OpenCode's provider ${provider.id} has no endpoint the worker knows: set clanker.baseUrl to its API base URL`,
      { step: 'initialising_agent' },
    );
  }
  return { provider: known?.wire ?? 'openai', baseUrl };
}
