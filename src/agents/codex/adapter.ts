// PLACEHOLDER — being written; replace this whole file.
import { WorkerError } from '../../errors.js';
import type { AgentAdapter } from '../adapter.js';
import { jsonLinesParser } from '../parsing.js';

export const codexAdapter: AgentAdapter = {
  slug: 'codex',
  displayName: 'Codex',
  binaryName: 'codex',
  installHint: 'install it with `npm ci --prefix agents` (@openai/codex)',
  modelKeys: () => ['OPENAI_API_KEY'],
  async prepare() {},
  command() {
    throw new WorkerError('agent_unavailable', 'Codex is not wired yet');
  },
  createParser: () => jsonLinesParser({ displayName: 'Codex', json: () => [] }),
};
