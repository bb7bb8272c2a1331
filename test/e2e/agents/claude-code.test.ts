import { agentSuite } from './agent-suite.js';

agentSuite({
  agent: 'claude-code',
  keyName: 'ANTHROPIC_API_KEY',
  model: 'claude-sonnet-4-5',
});
