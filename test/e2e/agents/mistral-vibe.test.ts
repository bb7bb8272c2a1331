import { fileURLToPath } from 'node:url';
import { agentSuite } from './agent-suite.js';

/**
 * Mistral Vibe is a Python ≥ 3.12 package (installed with uv) that cannot be installed on the
 * machines these tests were written on, so the suite runs a fake `vibe` in its place
 * (test/fixtures/agents/mistral-vibe/fake-vibe.mjs): it checks the arguments, VIBE_HOME and
 * environment the adapter gives it, and talks to the scripted model the way upstream's
 * programmatic mode does. The agent user runs it, so it must stay readable and executable.
 */
const FAKE_VIBE = fileURLToPath(
  new URL('../../fixtures/agents/mistral-vibe/fake-vibe.mjs', import.meta.url),
);

agentSuite({
  agent: 'mistral-vibe',
  keyName: 'MISTRAL_API_KEY',
  model: 'devstral-small-latest',
  // Vibe's api_base includes the API version; its generic backend appends /chat/completions.
  baseUrl: (url) => `${url}/v1`,
  // Vibe loads a checkout's AGENTS.md only in a trusted folder, and the adapter does not trust
  // the checkout (the model is told to read the file); the repository's own file must still
  // reach the commit unchanged.
  checkoutInstructions: 'AGENTS.md',
  env: { VIBERATOR_AGENT_BIN_MISTRAL_VIBE: FAKE_VIBE },
});
