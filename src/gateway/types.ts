/** The wire family of the upstream: it decides where the real key goes and the error shape. */
export type Provider = 'anthropic' | 'openai' | 'gemini';

/**
 * Tokens one answer consumed, as the upstream reported them. `inputTokens` excludes the
 * cached part, so `inputTokens + cacheReadTokens + cacheWriteTokens` is the whole prompt
 * (Anthropic's convention; the OpenAI and Gemini figures are converted to it).
 */
export interface Usage {
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
}

export function zeroUsage(): Usage {
  return { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 };
}

export function addUsage(total: Usage, more: Usage): void {
  total.inputTokens += more.inputTokens;
  total.outputTokens += more.outputTokens;
  total.cacheReadTokens += more.cacheReadTokens;
  total.cacheWriteTokens += more.cacheWriteTokens;
}
