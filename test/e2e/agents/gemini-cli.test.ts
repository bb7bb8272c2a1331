import { agentSuite } from './agent-suite.js';

agentSuite({
  agent: 'gemini-cli',
  keyName: 'GEMINI_API_KEY',
  model: 'gemini-2.5-pro',
  // The CLI reads the checkout's GEMINI.md; the clanker's instructions go to the user-level
  // one instead, so the repository's own file must reach the commit as it was.
  checkoutInstructions: 'GEMINI.md',
});
