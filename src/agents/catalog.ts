import type { AgentSlug } from './types.js';

/** The agents of runtime.md: CLI name and the keys each needs (any one of them). */
export const AGENT_CATALOG: Record<AgentSlug, { cli: string; keys: string[] }> = {
  'claude-code': { cli: 'claude', keys: ['ANTHROPIC_API_KEY', 'CLAUDE_CODE_OAUTH_TOKEN'] },
  codex: { cli: 'codex', keys: ['OPENAI_API_KEY'] },
  'gemini-cli': { cli: 'gemini', keys: ['GEMINI_API_KEY'] },
  'qwen-cli': { cli: 'qwen', keys: ['OPENAI_API_KEY', 'DASHSCOPE_API_KEY'] },
  opencode: { cli: 'opencode', keys: ['OPENAI_API_KEY'] },
  'mistral-vibe': { cli: 'vibe', keys: ['MISTRAL_API_KEY'] },
  'kimi-code': { cli: 'kimi', keys: ['KIMI_API_KEY'] },
};
