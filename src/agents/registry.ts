import type { AgentAdapter } from './adapter.js';
import { claudeCodeAdapter } from './claude-code/adapter.js';
import type { AgentSlug } from './types.js';

/** The adapters this worker has. Adding an agent is one folder and one line here. */
const ADAPTERS: Partial<Record<AgentSlug, AgentAdapter>> = {
  'claude-code': claudeCodeAdapter,
};

export function adapterFor(slug: AgentSlug): AgentAdapter | undefined {
  return ADAPTERS[slug];
}

export function supportedAdapters(): AgentAdapter[] {
  return Object.values(ADAPTERS);
}
