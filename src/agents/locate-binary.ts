import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { WorkerError } from '../errors.js';
import type { AgentAdapter } from './adapter.js';

/** `claude-code` → `CLAUDE_CODE`, the suffix of `VIBERATOR_AGENT_BIN_<SLUG>`. */
export function binEnvSuffix(slug: string): string {
  return slug.toUpperCase().replace(/-/g, '_');
}

async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Finds an executable on a PATH string. */
export async function whichOnPath(
  name: string,
  pathValue: string | undefined,
): Promise<string | undefined> {
  for (const dir of (pathValue ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    if (await isExecutable(candidate)) return candidate;
  }
  return undefined;
}

/**
 * Where the agent's CLI is: `VIBERATOR_AGENT_BIN_<SLUG>`, else the bundled package, else
 * PATH. Not found is `agent_unavailable`, naming what was tried.
 */
export async function locateAgentBinary(
  adapter: AgentAdapter,
  agentBins: Record<string, string>,
  pathValue: string | undefined,
): Promise<string> {
  const variable = `VIBERATOR_AGENT_BIN_${binEnvSuffix(adapter.slug)}`;
  const override = agentBins[binEnvSuffix(adapter.slug)];
  if (override) {
    if (await isExecutable(override)) return override;
    throw new WorkerError(
      'agent_unavailable',
      `${adapter.displayName} CLI not found: ${variable}=${override} is not an executable file`,
    );
  }
  const bundled = adapter.bundledBinary?.();
  if (bundled && (await isExecutable(bundled))) return bundled;
  const onPath = await whichOnPath(adapter.binaryName, pathValue);
  if (onPath) return onPath;
  throw new WorkerError(
    'agent_unavailable',
    `${adapter.displayName} CLI not found: no \`${adapter.binaryName}\` on PATH${bundled ? ' and the bundled package is missing' : ''}; install it or set ${variable}`,
  );
}
