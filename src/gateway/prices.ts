/**
 * The per-model price table the worker ships, for `maxCostUsd` budgets (spec: "Budget").
 * Prices are USD per million tokens at the provider's standard (non-batch, non-priority)
 * rate, for the short-prompt tier where a model has several: Anthropic Sonnet 4.x and
 * Gemini Pro up to 200k prompt tokens, OpenAI GPT-5.4 and later up to 272k input tokens,
 * Claude Haiku 5.5 up to 100k. Qwen prices are Alibaba Model Studio's international
 * (Singapore) ones, lowest input-length tier. `docs/model-gateway.md` lists the table; a test
 * keeps the two equal. A clanker overrides or extends it with `clanker.prices`.
 */
import type { Usage } from './types.js';

/** USD per million tokens. */
export interface ModelPrice {
  inputPerMTok: number;
  outputPerMTok: number;
  cacheReadPerMTok?: number;
  cacheWritePerMTok?: number;
}

export interface PriceEntry extends ModelPrice {
  model: string;
  aliases?: string[];
  provider: string;
  /** URL of the price page (or price list) the figures were read from. */
  source: string;
  /** YYYY-MM-DD: when the source was read. */
  checked: string;
}

const CHECKED = '2026-11-29';
/** Anthropic's price list; the figures agree with the tiers bundled in Claude Code 2.1.331. */
const ANTHROPIC_PRICING = 'https://platform.claude.com/docs/en/about-claude/pricing';
/** models.dev at a fixed commit (2026-07-02): one file per model. */
const modelsDev = (provider: string, model: string) =>
  `https://github.com/anomalyco/models.dev/blob/f3fc692299671838c7c65fd8126bf84d81a2e817/providers/${provider}/models/${model}.toml`;
/** The newer models.dev catalogue that opencode-ai 1.18.33 bundles (entries updated to 2026-09). */
const MODELS_DEV_BUNDLED = 'https://models.dev/api.json#opencode-ai-1.18.33';

export const PRICE_TABLE: readonly PriceEntry[] = Object.freeze([
  {
    model: 'claude-opus-5-5',
    aliases: ['opus'],
    provider: 'anthropic',
    inputPerMTok: 4,
    outputPerMTok: 20,
    cacheReadPerMTok: 0.2,
    cacheWritePerMTok: 5,
    source: ANTHROPIC_PRICING,
    checked: CHECKED,
  },
  {
    model: 'claude-sonnet-5-5',
    aliases: ['sonnet'],
    provider: 'anthropic',
    inputPerMTok: 2,
    outputPerMTok: 10,
    cacheReadPerMTok: 0.1,
    cacheWritePerMTok: 2.5,
    source: ANTHROPIC_PRICING,
    checked: CHECKED,
  },
  {
    model: 'claude-haiku-5-5',
    aliases: ['haiku'],
    provider: 'anthropic',
    inputPerMTok: 0.1,
    outputPerMTok: 0.5,
    cacheReadPerMTok: 0.01,
    cacheWritePerMTok: 0.125,
    source: ANTHROPIC_PRICING,
    checked: CHECKED,
  },
  {
    model: 'claude-fable-5-2',
    aliases: ['fable'],
    provider: 'anthropic',
    inputPerMTok: 8,
    outputPerMTok: 40,
    cacheReadPerMTok: 0.2,
    cacheWritePerMTok: 10,
    source: ANTHROPIC_PRICING,
    checked: CHECKED,
  },
  {
    model: 'claude-fable-5-1',
    provider: 'anthropic',
    inputPerMTok: 10,
    outputPerMTok: 50,
    cacheReadPerMTok: 0.25,
    cacheWritePerMTok: 12.5,
    source: ANTHROPIC_PRICING,
    checked: CHECKED,
  },
  {
    model: 'claude-fable-5',
    provider: 'anthropic',
    inputPerMTok: 10,
    outputPerMTok: 50,
    cacheReadPerMTok: 1,
    cacheWritePerMTok: 12.5,
    source: ANTHROPIC_PRICING,
    checked: CHECKED,
  },
  {
    model: 'claude-opus-5',
    provider: 'anthropic',
    inputPerMTok: 5,
    outputPerMTok: 25,
    cacheReadPerMTok: 0.5,
    cacheWritePerMTok: 6.25,
    source: ANTHROPIC_PRICING,
    checked: CHECKED,
  },
  {
    model: 'claude-sonnet-5',
    provider: 'anthropic',
    inputPerMTok: 2,
    outputPerMTok: 10,
    cacheReadPerMTok: 0.2,
    cacheWritePerMTok: 2.5,
    source: ANTHROPIC_PRICING,
    checked: CHECKED,
  },
  {
    model: 'claude-opus-4-8',
    provider: 'anthropic',
    inputPerMTok: 5,
    outputPerMTok: 25,
    cacheReadPerMTok: 0.5,
    cacheWritePerMTok: 6.25,
    source: ANTHROPIC_PRICING,
    checked: CHECKED,
  },
  {
    model: 'claude-opus-4-7',
    provider: 'anthropic',
    inputPerMTok: 5,
    outputPerMTok: 25,
    cacheReadPerMTok: 0.5,
    cacheWritePerMTok: 6.25,
    source: ANTHROPIC_PRICING,
    checked: CHECKED,
  },
  {
    model: 'claude-opus-4-6',
    provider: 'anthropic',
    inputPerMTok: 5,
    outputPerMTok: 25,
    cacheReadPerMTok: 0.5,
    cacheWritePerMTok: 6.25,
    source: ANTHROPIC_PRICING,
    checked: CHECKED,
  },
  {
    model: 'claude-opus-4-5',
    provider: 'anthropic',
    inputPerMTok: 5,
    outputPerMTok: 25,
    cacheReadPerMTok: 0.5,
    cacheWritePerMTok: 6.25,
    source: ANTHROPIC_PRICING,
    checked: CHECKED,
  },
  {
    model: 'claude-opus-4-1',
    provider: 'anthropic',
    inputPerMTok: 15,
    outputPerMTok: 75,
    cacheReadPerMTok: 1.5,
    cacheWritePerMTok: 18.75,
    source: ANTHROPIC_PRICING,
    checked: CHECKED,
  },
  {
    model: 'claude-opus-4-0',
    aliases: ['claude-opus-4'],
    provider: 'anthropic',
    inputPerMTok: 15,
    outputPerMTok: 75,
    cacheReadPerMTok: 1.5,
    cacheWritePerMTok: 18.75,
    source: ANTHROPIC_PRICING,
    checked: CHECKED,
  },
  {
    model: 'claude-sonnet-4-6',
    provider: 'anthropic',
    inputPerMTok: 3,
    outputPerMTok: 15,
    cacheReadPerMTok: 0.3,
    cacheWritePerMTok: 3.75,
    source: ANTHROPIC_PRICING,
    checked: CHECKED,
  },
  {
    model: 'claude-sonnet-4-5',
    provider: 'anthropic',
    inputPerMTok: 3,
    outputPerMTok: 15,
    cacheReadPerMTok: 0.3,
    cacheWritePerMTok: 3.75,
    source: ANTHROPIC_PRICING,
    checked: CHECKED,
  },
  {
    model: 'claude-sonnet-4-0',
    aliases: ['claude-sonnet-4'],
    provider: 'anthropic',
    inputPerMTok: 3,
    outputPerMTok: 15,
    cacheReadPerMTok: 0.3,
    cacheWritePerMTok: 3.75,
    source: ANTHROPIC_PRICING,
    checked: CHECKED,
  },
  {
    model: 'claude-haiku-4-5',
    provider: 'anthropic',
    inputPerMTok: 1,
    outputPerMTok: 5,
    cacheReadPerMTok: 0.1,
    cacheWritePerMTok: 1.25,
    source: ANTHROPIC_PRICING,
    checked: CHECKED,
  },
  {
    model: 'claude-3-7-sonnet',
    provider: 'anthropic',
    inputPerMTok: 3,
    outputPerMTok: 15,
    cacheReadPerMTok: 0.3,
    cacheWritePerMTok: 3.75,
    source: ANTHROPIC_PRICING,
    checked: CHECKED,
  },
  {
    model: 'claude-3-5-haiku',
    provider: 'anthropic',
    inputPerMTok: 0.8,
    outputPerMTok: 4,
    cacheReadPerMTok: 0.08,
    cacheWritePerMTok: 1,
    source: ANTHROPIC_PRICING,
    checked: CHECKED,
  },
  {
    model: 'gpt-6.2-sol',
    provider: 'openai',
    inputPerMTok: 2,
    outputPerMTok: 10,
    cacheReadPerMTok: 0.1,
    cacheWritePerMTok: 2.5,
    source: 'https://developers.openai.com/api/docs/models/gpt-6.2-sol',
    checked: CHECKED,
  },
  {
    model: 'gpt-6.2-astra',
    provider: 'openai',
    inputPerMTok: 8,
    outputPerMTok: 40,
    source: 'https://github.com/BerriAI/litellm/discussions/52347',
    checked: CHECKED,
  },
  {
    model: 'gpt-6.1-sol',
    provider: 'openai',
    inputPerMTok: 2,
    outputPerMTok: 10,
    cacheReadPerMTok: 0.1,
    source: 'https://docs.litellm.ai/blog/gpt_6_1_sol',
    checked: CHECKED,
  },
  {
    model: 'gpt-6.1-terra',
    provider: 'openai',
    inputPerMTok: 1,
    outputPerMTok: 5,
    cacheReadPerMTok: 0.05,
    source: 'https://docs.litellm.ai/blog/gpt-6-1-terra',
    checked: CHECKED,
  },
  {
    model: 'gpt-6-astra',
    provider: 'openai',
    inputPerMTok: 10,
    outputPerMTok: 50,
    cacheReadPerMTok: 1,
    cacheWritePerMTok: 12.5,
    source: MODELS_DEV_BUNDLED,
    checked: CHECKED,
  },
  {
    model: 'gpt-6-sol',
    provider: 'openai',
    inputPerMTok: 2,
    outputPerMTok: 10,
    cacheReadPerMTok: 0.2,
    cacheWritePerMTok: 2.5,
    source: MODELS_DEV_BUNDLED,
    checked: CHECKED,
  },
  {
    model: 'gpt-6-luna',
    provider: 'openai',
    inputPerMTok: 0.1,
    outputPerMTok: 0.5,
    cacheReadPerMTok: 0.01,
    cacheWritePerMTok: 0.125,
    source: MODELS_DEV_BUNDLED,
    checked: CHECKED,
  },
  {
    model: 'gpt-5.6-sol',
    provider: 'openai',
    inputPerMTok: 4,
    outputPerMTok: 20,
    cacheReadPerMTok: 0.4,
    cacheWritePerMTok: 5,
    source: MODELS_DEV_BUNDLED,
    checked: CHECKED,
  },
  {
    model: 'gpt-5.6-terra',
    provider: 'openai',
    inputPerMTok: 2,
    outputPerMTok: 12,
    cacheReadPerMTok: 0.2,
    cacheWritePerMTok: 2.5,
    source: MODELS_DEV_BUNDLED,
    checked: CHECKED,
  },
  {
    model: 'gpt-5.6-luna',
    provider: 'openai',
    inputPerMTok: 0.2,
    outputPerMTok: 1.2,
    cacheReadPerMTok: 0.02,
    cacheWritePerMTok: 0.25,
    source: MODELS_DEV_BUNDLED,
    checked: CHECKED,
  },
  {
    model: 'gpt-5.5',
    provider: 'openai',
    inputPerMTok: 5,
    outputPerMTok: 30,
    cacheReadPerMTok: 0.5,
    source: modelsDev('openai', 'gpt-5.5'),
    checked: CHECKED,
  },
  {
    model: 'gpt-5.4',
    provider: 'openai',
    inputPerMTok: 2.5,
    outputPerMTok: 15,
    cacheReadPerMTok: 0.25,
    source: modelsDev('openai', 'gpt-5.4'),
    checked: CHECKED,
  },
  {
    model: 'gpt-5.4-mini',
    provider: 'openai',
    inputPerMTok: 0.75,
    outputPerMTok: 4.5,
    cacheReadPerMTok: 0.075,
    source: modelsDev('openai', 'gpt-5.4-mini'),
    checked: CHECKED,
  },
  {
    model: 'gpt-5.4-nano',
    provider: 'openai',
    inputPerMTok: 0.2,
    outputPerMTok: 1.25,
    cacheReadPerMTok: 0.02,
    source: modelsDev('openai', 'gpt-5.4-nano'),
    checked: CHECKED,
  },
  {
    model: 'gpt-5.3-codex',
    provider: 'openai',
    inputPerMTok: 1.75,
    outputPerMTok: 14,
    cacheReadPerMTok: 0.175,
    source: modelsDev('openai', 'gpt-5.3-codex'),
    checked: CHECKED,
  },
  {
    model: 'gpt-5.2',
    provider: 'openai',
    inputPerMTok: 1.75,
    outputPerMTok: 14,
    cacheReadPerMTok: 0.175,
    source: modelsDev('openai', 'gpt-5.2'),
    checked: CHECKED,
  },
  {
    model: 'gpt-5.2-codex',
    provider: 'openai',
    inputPerMTok: 1.75,
    outputPerMTok: 14,
    cacheReadPerMTok: 0.175,
    source: modelsDev('openai', 'gpt-5.2-codex'),
    checked: CHECKED,
  },
  {
    model: 'gpt-5.1',
    provider: 'openai',
    inputPerMTok: 1.25,
    outputPerMTok: 10,
    cacheReadPerMTok: 0.125,
    source: modelsDev('openai', 'gpt-5.1'),
    checked: CHECKED,
  },
  {
    model: 'gpt-5.1-codex',
    provider: 'openai',
    inputPerMTok: 1.25,
    outputPerMTok: 10,
    cacheReadPerMTok: 0.125,
    source: modelsDev('openai', 'gpt-5.1-codex'),
    checked: CHECKED,
  },
  {
    model: 'gpt-5.1-codex-max',
    provider: 'openai',
    inputPerMTok: 1.25,
    outputPerMTok: 10,
    cacheReadPerMTok: 0.125,
    source: modelsDev('openai', 'gpt-5.1-codex-max'),
    checked: CHECKED,
  },
  {
    model: 'gpt-5.1-codex-mini',
    provider: 'openai',
    inputPerMTok: 0.25,
    outputPerMTok: 2,
    cacheReadPerMTok: 0.025,
    source: modelsDev('openai', 'gpt-5.1-codex-mini'),
    checked: CHECKED,
  },
  {
    model: 'gpt-5',
    provider: 'openai',
    inputPerMTok: 1.25,
    outputPerMTok: 10,
    cacheReadPerMTok: 0.125,
    source: modelsDev('openai', 'gpt-5'),
    checked: CHECKED,
  },
  {
    model: 'gpt-5-codex',
    provider: 'openai',
    inputPerMTok: 1.25,
    outputPerMTok: 10,
    cacheReadPerMTok: 0.125,
    source: modelsDev('openai', 'gpt-5-codex'),
    checked: CHECKED,
  },
  {
    model: 'gpt-5-mini',
    provider: 'openai',
    inputPerMTok: 0.25,
    outputPerMTok: 2,
    cacheReadPerMTok: 0.025,
    source: modelsDev('openai', 'gpt-5-mini'),
    checked: CHECKED,
  },
  {
    model: 'gpt-5-nano',
    provider: 'openai',
    inputPerMTok: 0.05,
    outputPerMTok: 0.4,
    cacheReadPerMTok: 0.005,
    source: modelsDev('openai', 'gpt-5-nano'),
    checked: CHECKED,
  },
  {
    model: 'gpt-4.1',
    provider: 'openai',
    inputPerMTok: 2,
    outputPerMTok: 8,
    cacheReadPerMTok: 0.5,
    source: modelsDev('openai', 'gpt-4.1'),
    checked: CHECKED,
  },
  {
    model: 'gpt-4.1-mini',
    provider: 'openai',
    inputPerMTok: 0.4,
    outputPerMTok: 1.6,
    cacheReadPerMTok: 0.1,
    source: modelsDev('openai', 'gpt-4.1-mini'),
    checked: CHECKED,
  },
  {
    model: 'gpt-4.1-nano',
    provider: 'openai',
    inputPerMTok: 0.1,
    outputPerMTok: 0.4,
    cacheReadPerMTok: 0.025,
    source: modelsDev('openai', 'gpt-4.1-nano'),
    checked: CHECKED,
  },
  {
    model: 'gpt-4o',
    provider: 'openai',
    inputPerMTok: 2.5,
    outputPerMTok: 10,
    cacheReadPerMTok: 1.25,
    source: modelsDev('openai', 'gpt-4o'),
    checked: CHECKED,
  },
  {
    model: 'gpt-4o-2024-05-13',
    provider: 'openai',
    inputPerMTok: 5,
    outputPerMTok: 15,
    source: modelsDev('openai', 'gpt-4o-2024-05-13'),
    checked: CHECKED,
  },
  {
    model: 'gpt-4o-mini',
    provider: 'openai',
    inputPerMTok: 0.15,
    outputPerMTok: 0.6,
    cacheReadPerMTok: 0.075,
    source: modelsDev('openai', 'gpt-4o-mini'),
    checked: CHECKED,
  },
  {
    model: 'o3',
    provider: 'openai',
    inputPerMTok: 2,
    outputPerMTok: 8,
    cacheReadPerMTok: 0.5,
    source: modelsDev('openai', 'o3'),
    checked: CHECKED,
  },
  {
    model: 'o4-mini',
    provider: 'openai',
    inputPerMTok: 1.1,
    outputPerMTok: 4.4,
    cacheReadPerMTok: 0.275,
    source: modelsDev('openai', 'o4-mini'),
    checked: CHECKED,
  },
  {
    model: 'gemini-3.1-pro-preview',
    aliases: ['gemini-3.1-pro-preview-customtools'],
    provider: 'google',
    inputPerMTok: 2,
    outputPerMTok: 12,
    cacheReadPerMTok: 0.2,
    source: modelsDev('google', 'gemini-3.1-pro-preview'),
    checked: CHECKED,
  },
  {
    model: 'gemini-3-pro-preview',
    provider: 'google',
    inputPerMTok: 2,
    outputPerMTok: 12,
    cacheReadPerMTok: 0.2,
    source: modelsDev('google', 'gemini-3-pro-preview'),
    checked: CHECKED,
  },
  {
    model: 'gemini-3.8-flash',
    provider: 'google',
    inputPerMTok: 0.75,
    outputPerMTok: 3.75,
    cacheReadPerMTok: 0.075,
    source: MODELS_DEV_BUNDLED,
    checked: CHECKED,
  },
  {
    model: 'gemini-3.5-flash',
    provider: 'google',
    inputPerMTok: 1.5,
    outputPerMTok: 9,
    cacheReadPerMTok: 0.15,
    source: modelsDev('google', 'gemini-3.5-flash'),
    checked: CHECKED,
  },
  {
    model: 'gemini-3.5-flash-lite',
    provider: 'google',
    inputPerMTok: 0.3,
    outputPerMTok: 2.5,
    cacheReadPerMTok: 0.03,
    source: MODELS_DEV_BUNDLED,
    checked: CHECKED,
  },
  {
    model: 'gemini-3.1-flash-lite',
    provider: 'google',
    inputPerMTok: 0.25,
    outputPerMTok: 1.5,
    cacheReadPerMTok: 0.025,
    source: modelsDev('google', 'gemini-3.1-flash-lite'),
    checked: CHECKED,
  },
  {
    model: 'gemini-3-flash-preview',
    provider: 'google',
    inputPerMTok: 0.5,
    outputPerMTok: 3,
    cacheReadPerMTok: 0.05,
    source: modelsDev('google', 'gemini-3-flash-preview'),
    checked: CHECKED,
  },
  {
    model: 'gemini-2.5-pro',
    provider: 'google',
    inputPerMTok: 1.25,
    outputPerMTok: 10,
    cacheReadPerMTok: 0.125,
    source: modelsDev('google', 'gemini-2.5-pro'),
    checked: CHECKED,
  },
  {
    model: 'gemini-2.5-flash',
    provider: 'google',
    inputPerMTok: 0.3,
    outputPerMTok: 2.5,
    cacheReadPerMTok: 0.03,
    source: modelsDev('google', 'gemini-2.5-flash'),
    checked: CHECKED,
  },
  {
    model: 'gemini-2.5-flash-lite',
    provider: 'google',
    inputPerMTok: 0.1,
    outputPerMTok: 0.4,
    cacheReadPerMTok: 0.01,
    source: modelsDev('google', 'gemini-2.5-flash-lite'),
    checked: CHECKED,
  },
  {
    model: 'qwen3.8-max',
    provider: 'alibaba',
    inputPerMTok: 2,
    outputPerMTok: 6,
    cacheReadPerMTok: 0.25,
    cacheWritePerMTok: 2.5,
    source: MODELS_DEV_BUNDLED,
    checked: CHECKED,
  },
  {
    model: 'qwen3.7-max',
    provider: 'alibaba',
    inputPerMTok: 2.5,
    outputPerMTok: 7.5,
    cacheReadPerMTok: 0.5,
    cacheWritePerMTok: 3.125,
    source: modelsDev('alibaba', 'qwen3.7-max'),
    checked: CHECKED,
  },
  {
    model: 'qwen3.7-plus',
    provider: 'alibaba',
    inputPerMTok: 0.5,
    outputPerMTok: 3,
    cacheReadPerMTok: 0.05,
    cacheWritePerMTok: 0.625,
    source: modelsDev('alibaba', 'qwen3.7-plus'),
    checked: CHECKED,
  },
  {
    model: 'qwen3.8-flash',
    provider: 'alibaba',
    inputPerMTok: 0.15,
    outputPerMTok: 0.47,
    cacheReadPerMTok: 0.016,
    cacheWritePerMTok: 0.2,
    source: MODELS_DEV_BUNDLED,
    checked: CHECKED,
  },
  {
    model: 'qwen3-coder-plus',
    provider: 'alibaba',
    inputPerMTok: 1,
    outputPerMTok: 5,
    source: modelsDev('alibaba', 'qwen3-coder-plus'),
    checked: CHECKED,
  },
  {
    model: 'qwen3-coder-flash',
    provider: 'alibaba',
    inputPerMTok: 0.3,
    outputPerMTok: 1.5,
    source: modelsDev('alibaba', 'qwen3-coder-flash'),
    checked: CHECKED,
  },
  {
    model: 'mistral-vibe-cli-latest',
    aliases: ['mistral-medium-3.5'],
    provider: 'mistral',
    inputPerMTok: 1.5,
    outputPerMTok: 7.5,
    source: 'https://github.com/mistralai/mistral-vibe/blob/v2.18.4/vibe/core/config/_settings.py',
    checked: CHECKED,
  },
  {
    model: 'mistral-medium-2604',
    aliases: ['mistral-medium-latest'],
    provider: 'mistral',
    inputPerMTok: 1.5,
    outputPerMTok: 7.5,
    source: MODELS_DEV_BUNDLED,
    checked: CHECKED,
  },
  {
    model: 'mistral-medium-2508',
    provider: 'mistral',
    inputPerMTok: 0.4,
    outputPerMTok: 2,
    source: modelsDev('mistral', 'mistral-medium-2508'),
    checked: CHECKED,
  },
  {
    model: 'mistral-medium-2505',
    provider: 'mistral',
    inputPerMTok: 0.4,
    outputPerMTok: 2,
    source: modelsDev('mistral', 'mistral-medium-2505'),
    checked: CHECKED,
  },
  {
    model: 'devstral-2512',
    aliases: ['devstral-latest', 'devstral-medium-latest'],
    provider: 'mistral',
    inputPerMTok: 0.4,
    outputPerMTok: 2,
    source: modelsDev('mistral', 'devstral-2512'),
    checked: CHECKED,
  },
  {
    model: 'devstral-medium-2507',
    provider: 'mistral',
    inputPerMTok: 0.4,
    outputPerMTok: 2,
    source: modelsDev('mistral', 'devstral-medium-2507'),
    checked: CHECKED,
  },
  {
    model: 'devstral-small-2507',
    aliases: ['devstral-small-latest'],
    provider: 'mistral',
    inputPerMTok: 0.1,
    outputPerMTok: 0.3,
    source: modelsDev('mistral', 'devstral-small-2507'),
    checked: CHECKED,
  },
  {
    model: 'codestral-latest',
    provider: 'mistral',
    inputPerMTok: 0.3,
    outputPerMTok: 0.9,
    source: modelsDev('mistral', 'codestral-latest'),
    checked: CHECKED,
  },
  {
    model: 'kimi-k3',
    provider: 'moonshotai',
    inputPerMTok: 3,
    outputPerMTok: 15,
    cacheReadPerMTok: 0.3,
    source: MODELS_DEV_BUNDLED,
    checked: CHECKED,
  },
  {
    model: 'kimi-k2.7-code',
    provider: 'moonshotai',
    inputPerMTok: 0.95,
    outputPerMTok: 4,
    cacheReadPerMTok: 0.19,
    source: modelsDev('moonshotai', 'kimi-k2.7-code'),
    checked: CHECKED,
  },
  {
    model: 'kimi-k2.7-code-highspeed',
    provider: 'moonshotai',
    inputPerMTok: 1.9,
    outputPerMTok: 8,
    cacheReadPerMTok: 0.38,
    source: modelsDev('moonshotai', 'kimi-k2.7-code-highspeed'),
    checked: CHECKED,
  },
  {
    model: 'kimi-k2.6',
    provider: 'moonshotai',
    inputPerMTok: 0.95,
    outputPerMTok: 4,
    cacheReadPerMTok: 0.16,
    source: modelsDev('moonshotai', 'kimi-k2.6'),
    checked: CHECKED,
  },
  {
    model: 'kimi-k2.5',
    provider: 'moonshotai',
    inputPerMTok: 0.6,
    outputPerMTok: 3,
    cacheReadPerMTok: 0.1,
    source: modelsDev('moonshotai', 'kimi-k2.5'),
    checked: CHECKED,
  },
  {
    model: 'kimi-k2-thinking',
    provider: 'moonshotai',
    inputPerMTok: 0.6,
    outputPerMTok: 2.5,
    cacheReadPerMTok: 0.15,
    source: modelsDev('moonshotai', 'kimi-k2-thinking'),
    checked: CHECKED,
  },
  {
    model: 'kimi-k2-thinking-turbo',
    provider: 'moonshotai',
    inputPerMTok: 1.15,
    outputPerMTok: 8,
    cacheReadPerMTok: 0.15,
    source: modelsDev('moonshotai', 'kimi-k2-thinking-turbo'),
    checked: CHECKED,
  },
  {
    model: 'kimi-k2-turbo-preview',
    provider: 'moonshotai',
    inputPerMTok: 2.4,
    outputPerMTok: 10,
    cacheReadPerMTok: 0.6,
    source: modelsDev('moonshotai', 'kimi-k2-turbo-preview'),
    checked: CHECKED,
  },
  {
    model: 'kimi-k2-0905-preview',
    provider: 'moonshotai',
    inputPerMTok: 0.6,
    outputPerMTok: 2.5,
    cacheReadPerMTok: 0.15,
    source: modelsDev('moonshotai', 'kimi-k2-0905-preview'),
    checked: CHECKED,
  },
  {
    model: 'kimi-k2-0711-preview',
    provider: 'moonshotai',
    inputPerMTok: 0.6,
    outputPerMTok: 2.5,
    cacheReadPerMTok: 0.15,
    source: modelsDev('moonshotai', 'kimi-k2-0711-preview'),
    checked: CHECKED,
  },
  {
    model: 'deepseek-v4-pro',
    provider: 'deepseek',
    inputPerMTok: 0.435,
    outputPerMTok: 0.87,
    cacheReadPerMTok: 0.003625,
    source: modelsDev('deepseek', 'deepseek-v4-pro'),
    checked: CHECKED,
  },
  {
    model: 'deepseek-flash',
    provider: 'deepseek',
    inputPerMTok: 0.15,
    outputPerMTok: 0.6,
    cacheReadPerMTok: 0.003,
    source: MODELS_DEV_BUNDLED,
    checked: CHECKED,
  },
]);

const DATED_SUFFIXES = [
  /-\d{8}$/, // Anthropic: claude-sonnet-4-5-20250929
  /@\d{8}$/, // Vertex: claude-sonnet-4-5@20250929
  /-\d{4}-\d{2}-\d{2}$/, // OpenAI: gpt-4o-2024-08-06, gpt-5-2025-08-07
];

/**
 * The form names are compared in: lower case, without a provider or path prefix
 * (`anthropic/…`, `models/…`), a Gemini method (`:streamGenerateContent`), Claude Code's
 * `[1m]` or a `-latest` suffix; Claude versions with dashes (`claude-sonnet-4.5` is
 * `claude-sonnet-4-5`).
 */
function normalise(name: string): string {
  let id = name.trim().toLowerCase();
  id = id.slice(id.lastIndexOf('/') + 1);
  id = id.replace(/:(stream)?generatecontent$/, '').replace(/\[1m\]$/, '');
  if (id.startsWith('claude-')) id = id.replace(/(\d)\.(\d)/g, '$1-$2');
  return id.replace(/-latest$/, '');
}

/** The normalised name, then the same without a date snapshot suffix: the most specific first. */
function candidates(name: string): string[] {
  const id = normalise(name);
  const out = [id];
  for (const suffix of DATED_SUFFIXES) {
    const undated = id.replace(suffix, '');
    if (undated !== id && undated !== '') out.push(undated);
  }
  return out;
}

function priceOf(entry: PriceEntry): ModelPrice {
  const { inputPerMTok, outputPerMTok, cacheReadPerMTok, cacheWritePerMTok } = entry;
  return {
    inputPerMTok,
    outputPerMTok,
    ...(cacheReadPerMTok !== undefined && { cacheReadPerMTok }),
    ...(cacheWritePerMTok !== undefined && { cacheWritePerMTok }),
  };
}

/** Every normalised name and alias of the table, to its entry. */
const INDEX: ReadonlyMap<string, PriceEntry> = (() => {
  const index = new Map<string, PriceEntry>();
  for (const entry of PRICE_TABLE) {
    for (const name of [entry.model, ...(entry.aliases ?? [])]) index.set(normalise(name), entry);
  }
  return index;
})();

/**
 * The price of a model id as a CLI or an API names it; overrides (clanker.prices) win.
 * undefined when unknown. Names match exactly once normalised, never by prefix, so
 * `gpt-5-mini` never gets `gpt-5`'s price and a dated snapshot with its own entry
 * (`gpt-4o-2024-05-13`) keeps it.
 */
export function findPrice(
  model: string,
  overrides?: Record<string, ModelPrice>,
): ModelPrice | undefined {
  const names = candidates(model);
  if (overrides) {
    if (Object.hasOwn(overrides, model)) return overrides[model];
    const byName = new Map<string, ModelPrice>();
    for (const [name, price] of Object.entries(overrides)) {
      const key = normalise(name);
      if (!byName.has(key)) byName.set(key, price);
    }
    for (const name of names) {
      const price = byName.get(name);
      if (price) return price;
    }
  }
  for (const name of names) {
    const entry = INDEX.get(name);
    if (entry) return priceOf(entry);
  }
  return undefined;
}

/** Cost in USD of one answer's usage; absent cache prices are charged at the input price. */
export function costUsd(usage: Usage, price: ModelPrice): number {
  const input = price.inputPerMTok;
  return (
    (usage.inputTokens * input +
      usage.outputTokens * price.outputPerMTok +
      usage.cacheReadTokens * (price.cacheReadPerMTok ?? input) +
      usage.cacheWriteTokens * (price.cacheWritePerMTok ?? input)) /
    1_000_000
  );
}
