import type { Clanker } from '../../payload/schema.js';

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
 * OpenCode's providers that take one API key, with the variables it reads the key from
 * (its bundled model catalogue), the preferred payload secret name first.
 */
const PROVIDER_KEYS = new Map<string, string[]>(
  Object.entries({
    openai: ['OPENAI_API_KEY'],
    anthropic: ['ANTHROPIC_API_KEY'],
    google: ['GEMINI_API_KEY', 'GOOGLE_GENERATIVE_AI_API_KEY', 'GOOGLE_API_KEY'],
    openrouter: ['OPENROUTER_API_KEY'],
    groq: ['GROQ_API_KEY'],
    mistral: ['MISTRAL_API_KEY'],
    deepseek: ['DEEPSEEK_API_KEY'],
    xai: ['XAI_API_KEY'],
    togetherai: ['TOGETHER_API_KEY'],
    'fireworks-ai': ['FIREWORKS_API_KEY'],
    cerebras: ['CEREBRAS_API_KEY'],
    deepinfra: ['DEEPINFRA_API_KEY'],
    perplexity: ['PERPLEXITY_API_KEY'],
    moonshotai: ['MOONSHOT_API_KEY'],
    alibaba: ['DASHSCOPE_API_KEY'],
    zai: ['ZHIPU_API_KEY'],
    opencode: ['OPENCODE_API_KEY'],
  }),
);

/** The provider and model a clanker asks for (see {@link OpencodeProvider}). */
export function opencodeProvider(clanker: Pick<Clanker, 'model' | 'baseUrl'>): OpencodeProvider {
  const { model, baseUrl } = clanker;
  if (!model)
    return baseUrl ? { id: CUSTOM_PROVIDER, custom: true } : { id: 'openai', custom: false };
  const slash = model.indexOf('/');
  const prefix = slash > 0 ? model.slice(0, slash) : undefined;
  const rest = model.slice(slash + 1);
  if (prefix && rest && (PROVIDER_KEYS.has(prefix) || !baseUrl)) {
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
    PROVIDER_KEYS.get(provider.id) ?? [
      `${provider.id.toUpperCase().replace(/[^A-Z0-9]+/g, '_')}_API_KEY`,
    ]
  );
}
