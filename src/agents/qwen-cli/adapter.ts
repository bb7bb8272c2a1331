// PLACEHOLDER — being written; replace this whole file.
import { WorkerError } from '../../errors.js';
import type { AgentAdapter } from '../adapter.js';
import { jsonLinesParser } from '../parsing.js';

export const qwenCliAdapter: AgentAdapter = {
  slug: 'qwen-cli',
  displayName: 'Qwen Code',
  binaryName: 'qwen',
  installHint: 'install it with `npm ci --prefix agents` (@qwen-code/qwen-code)',
  modelKeys: () => ['OPENAI_API_KEY', 'DASHSCOPE_API_KEY'],
  async prepare() {},
  command() {
    throw new WorkerError('agent_unavailable', 'Qwen Code is not wired yet');
  },
  createParser: () => jsonLinesParser({ displayName: 'Qwen Code', json: () => [] }),
};
