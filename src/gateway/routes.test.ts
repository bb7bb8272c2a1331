import { describe, expect, it } from 'vitest';
import { isModelCall } from './routes.js';

describe('isModelCall: what the gateway forwards', () => {
  it.each([
    ['POST', '/v1/messages'],
    ['POST', '/v1/messages/count_tokens'],
    ['POST', '/v1/chat/completions'],
    ['POST', '/compatible-mode/v1/chat/completions'],
    ['POST', '/v1/responses'],
    ['POST', '/v1/responses/compact'],
    ['POST', '/v1beta/models/gemini-2.5-pro:streamGenerateContent'],
    ['POST', '/v1beta/models/gemini-2.5-pro:generateContent'],
    ['POST', '/v1beta/models/gemini-2.5-pro:countTokens'],
    ['GET', '/v1/models'],
    ['GET', '/v1/models/gpt-5'],
    ['GET', '/v1beta/models/gemini-2.5-pro'],
  ])('forwards %s %s', (method, path) => {
    expect(isModelCall(method, path)).toBe(true);
  });

  it.each([
    ['GET', '/v1/files'],
    ['POST', '/v1/files'],
    ['GET', '/v1/files/file-abc/content'],
    ['POST', '/v1/batches'],
    ['POST', '/v1/fine_tuning/jobs'],
    ['GET', '/v1/organizations/org/api_keys'],
    ['DELETE', '/v1/models/ft-model'],
    ['POST', '/v1/models'],
    ['GET', '/v1/messages'],
    ['GET', '/'],
  ])('refuses %s %s', (method, path) => {
    expect(isModelCall(method, path)).toBe(false);
  });
});
