import { describe, expect, it } from 'vitest';
import { checkModelCall, isModelCall } from './routes.js';
import type { Provider } from './types.js';

type Case = [provider: Provider, basePath: string, method: string, target: string];

describe('isModelCall: exactly the model calls of the upstream wire, after its base path', () => {
  it.each<Case>([
    ['anthropic', '', 'POST', '/v1/messages'],
    ['anthropic', '', 'POST', '/v1/messages?beta=true'],
    ['anthropic', '', 'POST', '/v1/messages/count_tokens'],
    ['anthropic', '', 'GET', '/v1/models'],
    ['anthropic', '', 'GET', '/v1/models/claude-sonnet-4-5'],
    ['anthropic', '/anthropic', 'POST', '/anthropic/v1/messages'],
    // OpenCode's Anthropic SDK puts the version in its base URL: …/v1 + /messages.
    ['anthropic', '/v1', 'POST', '/v1/messages'],
    ['openai', '/v1', 'POST', '/v1/chat/completions'],
    ['openai', '/compatible-mode/v1', 'POST', '/compatible-mode/v1/chat/completions'],
    ['openai', '/api/paas/v4', 'POST', '/api/paas/v4/chat/completions'],
    ['openai', '', 'POST', '/chat/completions'],
    ['openai', '/v1', 'POST', '/v1/responses'],
    ['openai', '/v1', 'POST', '/v1/responses/compact'],
    ['openai', '/v1', 'GET', '/v1/models'],
    ['openai', '/v1', 'GET', '/v1/models?client_version=0.171.0'],
    ['openai', '/v1', 'GET', '/v1/models/gpt-5'],
    ['openai', '/v1', 'GET', '/v1/models/ft:gpt-4o:acme::abc123'],
    ['gemini', '', 'POST', '/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse'],
    ['gemini', '', 'POST', '/v1beta/models/gemini-2.5-pro:generateContent'],
    ['gemini', '', 'POST', '/v1/models/gemini-2.5-pro:countTokens'],
    ['gemini', '', 'POST', '/v1alpha/models/gemini-2.5-pro:generateContent'],
    ['gemini', '', 'GET', '/v1beta/models'],
    ['gemini', '', 'GET', '/v1beta/models/gemini-2.5-pro'],
    // OpenCode's Google SDK: the version in the base URL.
    ['gemini', '/v1beta', 'POST', '/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse'],
  ])('%s (base %j): forwards %s %s', (provider, basePath, method, target) => {
    expect(isModelCall(provider, method, target, basePath)).toBe(true);
  });

  it.each<Case>([
    // The three: a model-call suffix behind another path, and encoded separators.
    ['anthropic', '', 'POST', '/v1/organizations/me/v1/messages'],
    ['anthropic', '', 'POST', '/v1/files%3F/v1/messages'],
    ['anthropic', '', 'GET', '/v1/models/..%2F..%2Fv1%2Ffiles'],
    ['openai', '/v1', 'GET', '/v1/models/..%2f..%2fv1%2ffiles'],
    ['openai', '/v1', 'GET', '/v1/files'],
    ['openai', '/v1', 'POST', '/v1/files'],
    ['openai', '/v1', 'GET', '/v1/files/file-abc/content'],
    ['openai', '/v1', 'POST', '/v1/batches'],
    ['openai', '/v1', 'POST', '/v1/fine_tuning/jobs'],
    ['openai', '/v1', 'POST', '/v1/threads/thread_1/messages'],
    ['openai', '/v1', 'POST', '/v1/messages'],
    ['openai', '/v1', 'POST', '/v1/responses/resp_1/cancel'],
    ['openai', '/v1', 'GET', '/v1/organization/api_keys'],
    ['openai', '/v1', 'DELETE', '/v1/models/ft-model'],
    ['openai', '/v1', 'POST', '/v1/models'],
    // Outside the base path, or the base path repeated.
    ['openai', '/v1', 'POST', '/chat/completions'],
    ['openai', '/v1', 'POST', '/v1/v1/chat/completions'],
    ['openai', '/v1', 'POST', '/v2/chat/completions'],
    ['openai', '/compatible-mode/v1', 'POST', '/v1/chat/completions'],
    ['anthropic', '', 'POST', '/v1/messages/batches'],
    ['anthropic', '', 'POST', '/v1/threads/t/messages'],
    ['anthropic', '', 'POST', '/v1/chat/completions'],
    ['anthropic', '', 'GET', '/v1/messages'],
    ['anthropic', '', 'HEAD', '/v1/models'],
    ['anthropic', '', 'PUT', '/v1/messages'],
    ['anthropic', '', 'OPTIONS', '/v1/messages'],
    ['anthropic', '', 'POST', '/v2/messages'],
    ['anthropic', '/anthropic', 'POST', '/v1/messages'],
    // Dot segments, empty segments, encodings, backslashes, parameters, case, trailing bits.
    ['anthropic', '', 'POST', '/v1/messages/../files'],
    ['anthropic', '', 'POST', '/v1/./messages'],
    ['anthropic', '', 'POST', '/v1/%2e%2e/v1/messages'],
    ['anthropic', '', 'POST', '/v1/messages%2F..%2F..%2Ffiles'],
    ['anthropic', '', 'POST', '//v1/messages'],
    ['anthropic', '', 'POST', '/v1//messages'],
    ['anthropic', '', 'POST', '/v1/messages/'],
    ['anthropic', '', 'POST', '/v1\\messages'],
    ['anthropic', '', 'POST', '/v1/messages%5C'],
    ['anthropic', '', 'POST', '/v1/messages%00'],
    ['anthropic', '', 'POST', '/v1/messages%23'],
    ['anthropic', '', 'POST', '/v1/messages#frag'],
    ['anthropic', '', 'POST', '/v1/messages;x=1'],
    ['anthropic', '', 'POST', '/v1;x=1/messages'],
    ['anthropic', '', 'POST', '/v1/messages.'],
    ['anthropic', '', 'POST', '/V1/Messages'],
    ['anthropic', '', 'POST', '/v1/mess%61ges'],
    ['anthropic', '', 'GET', '/v1/models/claude.'],
    ['anthropic', '', 'GET', '/v1/models/..'],
    ['anthropic', '', 'GET', '/v1/models/%2e%2e'],
    // Not origin-form.
    ['anthropic', '', 'POST', 'http://api.anthropic.com/v1/messages'],
    ['anthropic', '', 'POST', '*'],
    ['anthropic', '', 'POST', ''],
    ['gemini', '', 'POST', '/v1beta/files'],
    ['gemini', '', 'POST', '/v1beta/cachedContents'],
    ['gemini', '', 'POST', '/v1beta/models/m:batchGenerateContent'],
    ['gemini', '', 'POST', '/v1beta/models/m:generateContent:countTokens'],
    ['gemini', '', 'POST', '/v2/models/m:generateContent'],
    ['gemini', '', 'POST', '/upload/v1beta/models/m:generateContent'],
    ['gemini', '', 'GET', '/'],
    ['gemini', '', 'GET', '/v1beta/models/m:generateContent'],
  ])('%s (base %j): refuses %s %s', (provider, basePath, method, target) => {
    expect(isModelCall(provider, method, target, basePath)).toBe(false);
  });

  it('gives the path to forward and the query without the key, or why it refused', () => {
    expect(
      checkModelCall('gemini', '', 'POST', '/v1beta/models/g:generateContent?alt=sse&key=k'),
    ).toEqual({ path: '/v1beta/models/g:generateContent', search: '?alt=sse' });
    expect(checkModelCall('anthropic', '', 'POST', '/v1/files%3F/v1/messages')).toEqual({
      refused: 'an encoded separator, dot or NUL in the path',
    });
    expect(checkModelCall('anthropic', '', 'POST', 'http://x/v1/messages')).toEqual({
      refused: 'not an origin-form request target',
    });
  });
});
