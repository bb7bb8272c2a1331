// PLACEHOLDER — being written; replace this whole file.
import type { Wire } from '../wire.js';

export const openAiResponsesWire: Wire = {
  name: 'openai-responses' as Wire['name'],
  handles: () => false,
  decode() {
    throw new Error('not yet');
  },
  reply() {},
  error() {},
};
