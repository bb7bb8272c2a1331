import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { AGENT_CATALOG } from '../agents/catalog.js';
import { binEnvSuffix, locateAgentBinary, whichOnPath } from '../agents/locate-binary.js';
import { adapterFor } from '../agents/registry.js';
import { AGENT_SLUGS } from '../agents/types.js';
import {
  currentHost,
  describeIdentity,
  resolveAgentIdentity,
} from '../isolation/agent-identity.js';

const run = promisify(execFile);

async function versionOf(file: string, args = ['--version']): Promise<string> {
  try {
    const { stdout, stderr } = await run(file, args, {
      timeout: 15_000,
      env: { PATH: process.env.PATH ?? '' },
    });
    return (stdout || stderr).trim().split('\n')[0] ?? '';
  } catch (error) {
    return `unknown (${(error as Error).message.split('\n')[0]})`;
  }
}

/** Which isolation mode applies on this host (runtime.md, "The agent is untrusted"). */
async function isolationLine(env: NodeJS.ProcessEnv): Promise<string> {
  try {
    const host = currentHost(env.VIBERATOR_AGENT_USER || undefined, env.PATH ?? '');
    return `isolation: ${describeIdentity(await resolveAgentIdentity(host))}`;
  } catch (error) {
    return `isolation: not usable: ${(error as Error).message}`;
  }
}

/** `viberator agents`: slug, CLI and keys of each agent. */
export function listAgents(out: NodeJS.WritableStream): void {
  for (const slug of AGENT_SLUGS) {
    const { cli, keys } = AGENT_CATALOG[slug];
    const status = adapterFor(slug) ? '' : '  (not supported by this version yet)';
    out.write(`${slug.padEnd(14)} ${cli.padEnd(10)} ${keys.join(' or ')}${status}\n`);
  }
}

/** `viberator doctor`: each agent found or not, with path and version; git and node. */
export async function runDoctor(
  env: NodeJS.ProcessEnv,
  out: NodeJS.WritableStream,
): Promise<number> {
  const agentBins: Record<string, string> = {};
  for (const slug of AGENT_SLUGS) {
    const override = env[`VIBERATOR_AGENT_BIN_${binEnvSuffix(slug)}`];
    if (override) agentBins[binEnvSuffix(slug)] = override;
  }
  let problems = 0;
  for (const slug of AGENT_SLUGS) {
    const { cli, keys } = AGENT_CATALOG[slug];
    const adapter = adapterFor(slug);
    let path: string | undefined;
    let note = '';
    try {
      path = adapter
        ? await locateAgentBinary(adapter, agentBins, env.PATH)
        : await whichOnPath(cli, env.PATH);
    } catch (error) {
      note = (error as Error).message;
    }
    const found = path
      ? `found ${path} (${await versionOf(path)})`
      : `not found${note ? `: ${note}` : ''}`;
    const support = adapter ? '' : ' [adapter not in this version]';
    out.write(`${slug}: ${found}; needs ${keys.join(' or ')}${support}\n`);
  }
  out.write(`${await isolationLine(env)}\n`);
  const git = await whichOnPath('git', env.PATH);
  if (!git) problems += 1;
  out.write(`git: ${git ? await versionOf(git) : 'not found: install git'}\n`);
  out.write(`node: ${process.version}\n`);
  return problems === 0 ? 0 : 1;
}
