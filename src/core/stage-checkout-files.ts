import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, normalize } from 'node:path';
import type { CheckoutFile } from '../agents/adapter.js';

/**
 * Writes the adapter's instruction files under `<agentDir>/checkout-files/` before the
 * agent's directory is handed over; the checkout script (run as the agent, after the clone)
 * places them into the checkout. Paths come from adapters, not from the payload; one that
 * leaves the checkout is a programming error.
 */
export async function stageCheckoutFiles(
  files: CheckoutFile[],
  agentDir: string,
): Promise<{ stageDir: string; paths: string[] }> {
  const stageDir = join(agentDir, 'checkout-files');
  const paths: string[] = [];
  for (const file of files) {
    const path = normalize(file.path);
    if (
      path.startsWith('..') ||
      path.startsWith('/') ||
      path === '.git' ||
      path.startsWith('.git/')
    ) {
      throw new Error(`an adapter's checkout file must stay inside the checkout: ${file.path}`);
    }
    const target = join(stageDir, path);
    await mkdir(dirname(target), { recursive: true, mode: 0o700 });
    await writeFile(target, file.content, { mode: 0o600 });
    paths.push(path);
  }
  return { stageDir, paths };
}
