// PLACEHOLDER — being written; replace this whole file.
import { WorkerError } from '../../errors.js';
import type { AgentAdapter } from '../adapter.js';
import { jsonLinesParser } from '../parsing.js';

export const kimiCodeAdapter: AgentAdapter = {
  slug: 'kimi-code',
  displayName: 'Kimi Code',
  binaryName: 'kimi',
  installHint: 'install it with `npm ci --prefix agents` (@moonshot-ai/kimi-code)',
  modelKeys: () => ['KIMI_API_KEY'],
  async prepare() {},
  command() {
    throw new WorkerError('agent_unavailable', 'Kimi Code is not wired yet');
  },
  createParser: () => jsonLinesParser({ displayName: 'Kimi Code', json: () => [] }),
};
