/**
 * Writes the published contract to docs/contract/: the OpenAPI 3.1 document of the platform
 * callback API and the JSON Schema of the payload, generated from the zod schemas
 * (src/contract/). Run with `npm run contract`; src/contract/contract.test.ts fails when the
 * checked-in files are not what this writes.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { CONTRACT_DIR, contractFiles } from '../src/contract/documents.js';

const dir = resolve(import.meta.dirname, '..', CONTRACT_DIR);
await mkdir(dir, { recursive: true });
for (const [name, text] of Object.entries(contractFiles())) {
  await writeFile(join(dir, name), text);
  console.log(`wrote ${join(CONTRACT_DIR, name)}`);
}
