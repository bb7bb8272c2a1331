import { agentSuite } from './agent-suite.js';

agentSuite({
  agent: 'qwen-cli',
  keyName: 'OPENAI_API_KEY',
  model: 'qwen3-coder-plus',
  // OPENAI_BASE_URL is the API root the CLI appends `/chat/completions` to.
  baseUrl: (url) => `${url}/v1`,
  // Qwen Code also reads the checkout's own QWEN.md (the clanker's goes to QWEN_HOME).
  checkoutInstructions: 'QWEN.md',
  // A refused connection (like a 5xx) gets 7 attempts with a backoff of 1.5 s doubling to
  // 30 s, ±30 % jitter: 65–90 s. The loop has no setting (model.generationConfig.maxRetries
  // only caps the SDK's own retries, set to 0).
  downWithinSeconds: 120,
});
