// PLACEHOLDER — being written; replace this whole file.
import { WorkerError } from '../../errors.js';
import type { AgentAdapter } from '../adapter.js';
import { jsonLinesParser } from '../parsing.js';

export const opencodeAdapter: AgentAdapter = {
  slug: 'opencode',
  displayName: 'OpenCode',
  binaryName: 'opencode',
  installHint: 'install it with `npm ci --prefix agents` (opencode-ai)',
  modelKeys: () => ['OPENAI_API_KEY'],
  async prepare() {},
  command() {
    throw new WorkerError('agent_unavailable', 'OpenCode is not wired yet');
  },
  createParser: () => jsonLinesParser({ displayName: 'OpenCode', json: () => [] }),
};
