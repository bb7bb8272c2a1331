import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { locateAgent, whichOnPath } from '../agents/locate-binary.js';
import { allAdapters } from '../agents/registry.js';
import { agentSearchFrom } from '../config/worker-env.js';
import {
  currentHost,
  describeIdentity,
  resolveAgentIdentity,
} from '../isolation/agent-identity.js';
import { describeTempCleanup } from '../isolation/shared-places.js';

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

/**
 * Which isolation mode applies on this host (runtime.md, "The agent is untrusted"), and which
 * shared places the agent's leftovers are removed from after every agent run.
 */
async function isolationLines(env: NodeJS.ProcessEnv): Promise<string> {
  try {
    const host = currentHost(env.VIBERATOR_AGENT_USER || undefined, env.PATH ?? '');
    const identity = await resolveAgentIdentity(host);
    return `isolation: ${describeIdentity(identity)}\ntemp cleanup: ${describeTempCleanup(identity)}`;
  } catch (error) {
    return `isolation: not usable: ${(error as Error).message}`;
  }
}

/** `viberator agents`: slug, CLI and the keys each accepts (for its default provider). */
export function listAgents(out: NodeJS.WritableStream): void {
  for (const adapter of allAdapters()) {
    const keys = adapter.modelKeys({}).join(' or ');
    out.write(`${adapter.slug.padEnd(14)} ${adapter.binaryName.padEnd(10)} ${keys}\n`);
  }
}

/** `viberator doctor`: each agent found or not, with path, version and launcher; git and node. */
export async function runDoctor(
  env: NodeJS.ProcessEnv,
  out: NodeJS.WritableStream,
): Promise<number> {
  const search = agentSearchFrom(env);
  let problems = 0;
  for (const adapter of allAdapters()) {
    const keys = adapter.modelKeys({}).join(' or ');
    let line: string;
    try {
      const { binary, launcher } = await locateAgent(adapter, search);
      const version = launcher
        ? await versionOf(launcher, [binary, '--version'])
        : await versionOf(binary);
      line = `found ${binary} (${version})${launcher ? `, run with ${launcher} (${await versionOf(launcher)})` : ''}`;
    } catch (error) {
      line = `not found: ${(error as Error).message}`;
    }
    out.write(`${adapter.slug}: ${line}; needs ${keys}\n`);
  }
  out.write(`${await isolationLines(env)}\n`);
  const git = await whichOnPath('git', env.PATH);
  if (!git) problems += 1;
  out.write(`git: ${git ? await versionOf(git) : 'not found: install git'}\n`);
  out.write(`node: ${process.version}\n`);
  return problems === 0 ? 0 : 1;
}
