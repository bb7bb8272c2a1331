// PLACEHOLDER — being written; replace this whole file.
import { WorkerError } from '../../errors.js';
import type { AgentAdapter } from '../adapter.js';
import { jsonLinesParser } from '../parsing.js';

export const mistralVibeAdapter: AgentAdapter = {
  slug: 'mistral-vibe',
  displayName: 'Mistral Vibe',
  binaryName: 'vibe',
  installHint: 'install it with `npm ci --prefix agents` (mistral-vibe)',
  modelKeys: () => ['MISTRAL_API_KEY'],
  async prepare() {},
  command() {
    throw new WorkerError('agent_unavailable', 'Mistral Vibe is not wired yet');
  },
  createParser: () => jsonLinesParser({ displayName: 'Mistral Vibe', json: () => [] }),
};
