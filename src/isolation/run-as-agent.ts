import { randomBytes } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CommandSpec } from '../process/run-process.js';
import type { AgentIdentity } from './agent-identity.js';

/**
 * The variable every process the agent starts inherits: same-user mode finds the agent's
 * leftovers by it (a process that scrubs its environment escapes it — see the docs).
 */
export const AGENT_MARKER_VARIABLE = 'VIBERATOR_AGENT_RUN';

/** A fresh marker value for one agent run. */
export function newAgentMarker(): string {
  return randomBytes(12).toString('hex');
}

/**
 * The wrapper sudo runs as the agent user: it starts from an empty environment, loads the
 * agent's variables from a file only the agent's group can read, deletes the file, and
 * execs the command. Variables never travel in argv, where every user could read them.
 */
const SUDO_WRAPPER = '. "$1" && rm -f -- "$1" && shift && exec "$@"';

/**
 * Turns a command into one that runs as the agent user. As root: the same command with the
 * agent's uid/gid (spawn drops root's supplementary groups). Through sudo: `sudo -n -u` with
 * the environment in a short-lived file under `envDir` (group-readable by the agent, inside
 * the private workspace). In same-user mode: unchanged.
 */
export async function asAgent(
  identity: AgentIdentity,
  spec: CommandSpec,
  envDir: string,
): Promise<CommandSpec> {
  if (identity.mode === 'root') return { ...spec, uid: identity.uid, gid: identity.gid };
  if (identity.mode === 'same-user') return spec;
  const envFile = join(envDir, `.viberator-env-${randomBytes(8).toString('hex')}`);
  const lines = Object.entries(spec.env).map(
    ([name, value]) => `export ${name}=${shellQuote(value)}`,
  );
  await writeFile(envFile, `${lines.join('\n')}\n`, { mode: 0o640 });
  return {
    ...spec,
    file: 'sudo',
    args: [
      '-n',
      '-u',
      identity.sudoUser,
      '--',
      '/usr/bin/env',
      '-i',
      '/bin/sh',
      '-c',
      SUDO_WRAPPER,
      'sh',
      envFile,
      spec.file,
      ...spec.args,
    ],
    // sudo itself needs only a PATH; the agent's variables are in the file.
    env: { PATH: spec.env.PATH ?? '/usr/bin:/bin' },
    cleanup: () => rm(envFile, { force: true }),
  };
}

/** Single-quotes a value for sh: the one character that needs care is the quote itself. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}
