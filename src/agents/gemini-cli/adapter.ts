// PLACEHOLDER — being written; replace this whole file.
import { WorkerError } from '../../errors.js';
import type { AgentAdapter } from '../adapter.js';
import { jsonLinesParser } from '../parsing.js';

export const geminiCliAdapter: AgentAdapter = {
  slug: 'gemini-cli',
  displayName: 'Gemini CLI',
  binaryName: 'gemini',
  installHint: 'install it with `npm ci --prefix agents` (@google/gemini-cli)',
  modelKeys: () => ['GEMINI_API_KEY'],
  async prepare() {},
  command() {
    throw new WorkerError('agent_unavailable', 'Gemini CLI is not wired yet');
  },
  createParser: () => jsonLinesParser({ displayName: 'Gemini CLI', json: () => [] }),
};
