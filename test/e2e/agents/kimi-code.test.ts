import { agentSuite } from './agent-suite.js';

agentSuite({
  agent: 'kimi-code',
  keyName: 'KIMI_API_KEY',
  model: 'kimi-k2.7-code',
  // Moonshot's API lives under /v1, as its default endpoint does.
  baseUrl: (url) => `${url}/v1`,
  // Kimi reads AGENTS.md from the checkout too (besides the clanker's user-level one):
  // the repository's own file must reach the commit unchanged.
  checkoutInstructions: 'AGENTS.md',
  // The CLI reads no plain KIMI_API_KEY: the adapter hands the key over as KIMI_MODEL_API_KEY.
  cliKeyVariable: 'KIMI_MODEL_API_KEY',
});
