import { describe, expect, it } from 'vitest';
import { isModelCall } from './routes.js';
import type { Provider } from './types.js';

describe('isModelCall: what the gateway forwards, by the upstream wire', () => {
  it.each<[Provider, string, string]>([
    ['anthropic', 'POST', '/v1/messages'],
    ['anthropic', 'POST', '/v1/messages/count_tokens'],
    ['anthropic', 'GET', '/v1/models'],
    ['openai', 'POST', '/v1/chat/completions'],
    ['openai', 'POST', '/compatible-mode/v1/chat/completions'],
    ['openai', 'POST', '/api/paas/v4/chat/completions'],
    ['openai', 'POST', '/v1/responses'],
    ['openai', 'POST', '/v1/responses/compact'],
    ['openai', 'GET', '/v1/models'],
    ['openai', 'GET', '/v1/models/gpt-5'],
    ['gemini', 'POST', '/v1beta/models/gemini-2.5-pro:streamGenerateContent'],
    ['gemini', 'POST', '/v1beta/models/gemini-2.5-pro:generateContent'],
    ['gemini', 'POST', '/v1beta/models/gemini-2.5-pro:countTokens'],
    ['gemini', 'GET', '/v1beta/models/gemini-2.5-pro'],
  ])('%s: forwards %s %s', (provider, method, path) => {
    expect(isModelCall(provider, method, path)).toBe(true);
  });

  it.each<[Provider, string, string]>([
    ['openai', 'GET', '/v1/files'],
    ['openai', 'POST', '/v1/files'],
    ['openai', 'GET', '/v1/files/file-abc/content'],
    ['openai', 'POST', '/v1/batches'],
    ['openai', 'POST', '/v1/fine_tuning/jobs'],
    // Assistants' threads end in /messages: an Anthropic call, never forwarded to OpenAI.
    ['openai', 'POST', '/v1/threads/thread_1/messages'],
    ['openai', 'POST', '/v1/messages'],
    ['openai', 'POST', '/v1/responses/resp_1/cancel'],
    ['openai', 'GET', '/v1/organization/api_keys'],
    ['openai', 'DELETE', '/v1/models/ft-model'],
    ['openai', 'POST', '/v1/models'],
    ['anthropic', 'POST', '/v1/messages/batches'],
    ['anthropic', 'POST', '/v1/threads/t/messages'],
    ['anthropic', 'POST', '/v1/chat/completions'],
    ['anthropic', 'GET', '/v1/messages'],
    ['gemini', 'POST', '/v1beta/files'],
    ['gemini', 'POST', '/v1beta/cachedContents'],
    ['gemini', 'POST', '/v1beta/models/m:batchGenerateContent'],
    ['gemini', 'GET', '/'],
  ])('%s: refuses %s %s', (provider, method, path) => {
    expect(isModelCall(provider, method, path)).toBe(false);
  });
});
