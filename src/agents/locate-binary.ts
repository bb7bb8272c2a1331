import { execFile } from 'node:child_process';
import { constants, existsSync, readFileSync } from 'node:fs';
import { access } from 'node:fs/promises';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { WorkerError } from '../errors.js';
import type { AgentAdapter, LauncherRequirement } from './adapter.js';

const run = promisify(execFile);

/** `claude-code` → `CLAUDE_CODE`, the suffix of `VIBERATOR_AGENT_BIN_<SLUG>`. */
export function binEnvSuffix(slug: string): string {
  return slug.toUpperCase().replace(/-/g, '_');
}

/** Where agent CLIs are looked for, besides the overrides. */
export interface AgentSearch {
  /** `VIBERATOR_AGENT_BIN_<SLUG>` and `VIBERATOR_AGENT_LAUNCHER_<SLUG>` values, by variable name. */
  overrides: Record<string, string>;
  /** The pinned CLIs' bin directory (`VIBERATOR_AGENTS_DIR`, else the worker's `agents/`). */
  agentsBinDir?: string;
  /** The worker's PATH. */
  path?: string;
}

/** A located CLI: the executable, and the interpreter to start it with when it needs one. */
export interface LocatedAgent {
  binary: string;
  launcher?: string;
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
 * The bin directory of the pinned agent CLIs (`agents/package.json`, installed with
 * `npm ci --prefix agents`): `VIBERATOR_AGENTS_DIR` when set (its `node_modules/.bin`), else
 * the one beside the worker's own package.
 */
export function pinnedAgentsBinDir(agentsDir: string | undefined): string | undefined {
  if (agentsDir) return join(agentsDir, 'node_modules', '.bin');
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        if (
          (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name ===
          'viberator-worker'
        )
          return join(dir, 'agents', 'node_modules', '.bin');
      } catch {
        // An unreadable manifest is not ours: keep looking upwards.
      }
    }
    dir = dirname(dir);
  }
  return undefined;
}

/** `v22.19.0` / `22.19.0` ≥ `22.19.0`? */
export function versionAtLeast(found: string, wanted: string): boolean {
  const parse = (v: string) => (/(\d+)\.(\d+)\.(\d+)/.exec(v) ?? []).slice(1, 4).map(Number);
  const a = parse(found);
  const b = parse(wanted);
  if (a.length < 3) return false;
  for (let i = 0; i < 3; i++) {
    if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) > (b[i] ?? 0);
  }
  return true;
}

/** The version a program prints, or undefined when it cannot run. */
export async function programVersion(file: string, args: string[]): Promise<string | undefined> {
  try {
    const { stdout, stderr } = await run(file, args, {
      timeout: 15_000,
      env: { PATH: '/usr/bin:/bin' },
    });
    return (stdout || stderr).trim().split('\n')[0];
  } catch {
    return undefined;
  }
}

/**
 * The interpreter a CLI needs: `VIBERATOR_AGENT_LAUNCHER_<SLUG>`, else one beside the CLI
 * (the pinned install carries its own), else the pinned bin dir, else PATH — the first whose
 * version is high enough. None is `agent_unavailable`, naming what was found.
 */
async function locateLauncher(
  adapter: AgentAdapter,
  requirement: LauncherRequirement,
  binary: string,
  search: AgentSearch,
): Promise<string> {
  const variable = `VIBERATOR_AGENT_LAUNCHER_${binEnvSuffix(adapter.slug)}`;
  const override = search.overrides[variable];
  const candidates = override
    ? [override]
    : [
        join(dirname(binary), requirement.program),
        ...(search.agentsBinDir ? [join(search.agentsBinDir, requirement.program)] : []),
        ...(await whichOnPath(requirement.program, search.path).then((p) => (p ? [p] : []))),
      ];
  const seen: string[] = [];
  for (const candidate of [...new Set(candidates)]) {
    if (!(await isExecutable(candidate))) continue;
    const version = await programVersion(candidate, requirement.versionArgs);
    if (version && versionAtLeast(version, requirement.minVersion)) return candidate;
    seen.push(`${candidate} is ${version ?? 'not runnable'}`);
  }
  throw new WorkerError(
    'agent_unavailable',
    `${adapter.displayName} needs ${requirement.program} ≥ ${requirement.minVersion}${seen.length > 0 ? ` (${seen.join('; ')})` : ''}: ${requirement.installHint}, or set ${variable}`,
  );
}

/**
 * Where the agent's CLI is: `VIBERATOR_AGENT_BIN_<SLUG>`, else the bundled package, else
 * the pinned install, else PATH; and its launcher when it needs one. Not found is
 * `agent_unavailable`, naming what was tried and how to install it.
 */
export async function locateAgent(
  adapter: AgentAdapter,
  search: AgentSearch,
): Promise<LocatedAgent> {
  const variable = `VIBERATOR_AGENT_BIN_${binEnvSuffix(adapter.slug)}`;
  const override = search.overrides[variable];
  let binary: string | undefined;
  if (override) {
    if (!(await isExecutable(override))) {
      throw new WorkerError(
        'agent_unavailable',
        `${adapter.displayName} CLI not found: ${variable}=${override} is not an executable file`,
      );
    }
    binary = override;
  } else {
    const bundled = adapter.bundledBinary?.();
    const pinned = search.agentsBinDir ? join(search.agentsBinDir, adapter.binaryName) : undefined;
    for (const candidate of [bundled, pinned]) {
      if (!binary && candidate && (await isExecutable(candidate))) binary = candidate;
    }
    binary ??= await whichOnPath(adapter.binaryName, search.path);
  }
  if (!binary) {
    throw new WorkerError(
      'agent_unavailable',
      `${adapter.displayName} CLI not found: no \`${adapter.binaryName}\` in the pinned agents directory or on PATH; ${adapter.installHint}, or set ${variable}`,
    );
  }
  if (!adapter.launcher) return { binary };
  return { binary, launcher: await locateLauncher(adapter, adapter.launcher, binary, search) };
}
