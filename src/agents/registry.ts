import type { AgentAdapter } from './adapter.js';
import { claudeCodeAdapter } from './claude-code/adapter.js';
import { codexAdapter } from './codex/adapter.js';
import { geminiCliAdapter } from './gemini-cli/adapter.js';
import { kimiCodeAdapter } from './kimi-code/adapter.js';
import { mistralVibeAdapter } from './mistral-vibe/adapter.js';
import { opencodeAdapter } from './opencode/adapter.js';
import { qwenCliAdapter } from './qwen-cli/adapter.js';
import { AGENT_SLUGS, type AgentSlug } from './types.js';

/**
 * Every agent of runtime.md, one adapter each. A full Record: a slug without an adapter does
 * not compile. Adding an agent is one folder, one slug in AGENT_SLUGS and one line here.
 */
const ADAPTERS: Record<AgentSlug, AgentAdapter> = {
  'claude-code': claudeCodeAdapter,
  codex: codexAdapter,
  'gemini-cli': geminiCliAdapter,
  'qwen-cli': qwenCliAdapter,
  opencode: opencodeAdapter,
  'mistral-vibe': mistralVibeAdapter,
  'kimi-code': kimiCodeAdapter,
};

export function adapterFor(slug: AgentSlug): AgentAdapter {
  return ADAPTERS[slug];
}

/** All adapters, in the order of runtime.md. */
export function allAdapters(): AgentAdapter[] {
  return AGENT_SLUGS.map((slug) => ADAPTERS[slug]);
}
