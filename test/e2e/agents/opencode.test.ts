import { agentSuite } from './agent-suite.js';

// A bare model with clanker.baseUrl: OpenCode's OpenAI-compatible provider (Chat Completions)
// at that URL, which names the API root (`…/v1`).
agentSuite({
  agent: 'opencode',
  keyName: 'OPENAI_API_KEY',
  model: 'demo-model',
  baseUrl: (url) => `${url}/v1`,
  checkoutInstructions: 'AGENTS.md',
  // OpenCode retries a refused connection five times over 60–80 s, with no setting to cap it.
  downWithinSeconds: 150,
});
