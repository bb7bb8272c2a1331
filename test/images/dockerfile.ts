import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** The repository root. */
export const ROOT = resolve(import.meta.dirname, '../..');
/** Where the worker's Dockerfiles live. */
export const DOCKER_DIR = join(ROOT, 'infra/workers/docker');

/** One instruction: its keyword (upper case), its arguments with continuations joined, its line. */
export interface Instruction {
  keyword: string;
  args: string;
  line: number;
}

/** One build stage: the image or stage it starts from (ARGs resolved), its name, its instructions. */
export interface Stage {
  from: string;
  name?: string;
  instructions: Instruction[];
}

export interface Dockerfile {
  path: string;
  text: string;
  /** ARGs declared before the first FROM, with their defaults. */
  globalArgs: Record<string, string>;
  stages: Stage[];
}

/**
 * A small Dockerfile parser: comments and blank lines dropped, `\` continuations joined
 * (comment lines inside a continuation skipped, as Docker does), instructions grouped into
 * stages, global ARGs substituted into FROM.
 */
export function parseDockerfile(path: string): Dockerfile {
  const text = readFileSync(path, 'utf8');
  const instructions: Instruction[] = [];
  let pending: { parts: string[]; line: number } | undefined;
  text.split('\n').forEach((raw, index) => {
    const trimmed = raw.trim();
    if (trimmed.startsWith('#') || (!pending && trimmed === '')) return;
    const continued = /\\$/.test(trimmed);
    const content = continued ? trimmed.slice(0, -1).trim() : trimmed;
    if (pending) pending.parts.push(content);
    else pending = { parts: [content], line: index + 1 };
    if (continued) return;
    const joined = pending.parts.filter(Boolean).join(' ');
    const match = /^(\S+)\s*(.*)$/.exec(joined);
    if (match?.[1]) {
      instructions.push({
        keyword: match[1].toUpperCase(),
        args: match[2] ?? '',
        line: pending.line,
      });
    }
    pending = undefined;
  });

  const globalArgs: Record<string, string> = {};
  const stages: Stage[] = [];
  for (const instruction of instructions) {
    if (instruction.keyword === 'FROM') {
      const [image = '', as, name] = instruction.args.split(/\s+/);
      const from = image.replace(/\$\{(\w+)\}|\$(\w+)/g, (_, a, b) => globalArgs[a ?? b] ?? '');
      stages.push({
        from,
        name: as?.toUpperCase() === 'AS' ? name : undefined,
        instructions: [],
      });
    } else if (stages.length === 0) {
      if (instruction.keyword === 'ARG') {
        const [name = '', value = ''] = instruction.args.split('=');
        globalArgs[name] = value;
      }
    } else {
      stages.at(-1)?.instructions.push(instruction);
    }
  }
  return { path, text, globalArgs, stages };
}

/** The last stage: what the image is. */
export function finalStage(file: Dockerfile): Stage {
  const stage = file.stages.at(-1);
  if (!stage) throw new Error(`${file.path}: no FROM`);
  return stage;
}

export function instructionsOf(stage: Stage, keyword: string): Instruction[] {
  return stage.instructions.filter((i) => i.keyword === keyword);
}

/** ENV `K=V …` of a stage, in order (values without spaces or quotes, as these files use). */
export function envOf(stage: Stage): Record<string, string> {
  const env: Record<string, string> = {};
  for (const instruction of instructionsOf(stage, 'ENV')) {
    for (const pair of instruction.args.split(/\s+/)) {
      const eq = pair.indexOf('=');
      if (eq > 0) env[pair.slice(0, eq)] = pair.slice(eq + 1);
    }
  }
  return env;
}

/** ARG defaults of a stage. */
export function argsOf(stage: Stage): Record<string, string> {
  const args: Record<string, string> = {};
  for (const instruction of instructionsOf(stage, 'ARG')) {
    const [name = '', value = ''] = instruction.args.split('=');
    args[name] = value;
  }
  return args;
}

/** An exec-form (JSON array) ENTRYPOINT or CMD; the last one counts. */
export function execForm(stage: Stage, keyword: 'ENTRYPOINT' | 'CMD'): string[] | undefined {
  const last = instructionsOf(stage, keyword).at(-1);
  if (!last) return undefined;
  const parsed = JSON.parse(last.args) as unknown;
  if (!Array.isArray(parsed) || !parsed.every((part) => typeof part === 'string')) {
    throw new Error(`${keyword} must be a JSON array of strings: ${last.args}`);
  }
  return parsed;
}

/** The shell commands of a RUN, split at `&&` (these files chain with `&&` only). */
export function commandsOf(run: Instruction): string[] {
  return run.args
    .split(/\s&&\s/)
    .map((command) => command.trim())
    .filter(Boolean);
}

/** `COPY --from=<source> <src> <dest>` of a stage. */
export function copiesFrom(stage: Stage): { from: string; src: string; dest: string }[] {
  return instructionsOf(stage, 'COPY').flatMap((copy) => {
    const match = /^--from=(\S+)\s+(\S+)\s+(\S+)$/.exec(copy.args);
    return match ? [{ from: match[1] ?? '', src: match[2] ?? '', dest: match[3] ?? '' }] : [];
  });
}

/** The commands that create users and groups: run once on a host that reproduces the image. */
const USER_PROGRAMS = new Set(['groupadd', 'useradd', 'usermod']);
/** What else the identity RUN may do (directories, the sudo rule): nothing else is expected. */
const LAYOUT_PROGRAMS = new Set(['install', 'printf', 'chmod', 'visudo', 'mkdir', 'chown']);

/** The final stage's RUN that creates the users, and what it does. */
export interface Identity {
  userCommands: string[];
  layoutCommands: string[];
  /** Programs in that RUN that are neither of the above (a test fails on them). */
  unexpected: string[];
  /** The sudo rule written to /etc/sudoers.d/, its file and the mode it is given. */
  sudo?: { file: string; rule: string; mode?: string };
}

export function identityOf(stage: Stage): Identity | undefined {
  const run = instructionsOf(stage, 'RUN').find((i) => /\buseradd\b/.test(i.args));
  if (!run) return undefined;
  const identity: Identity = { userCommands: [], layoutCommands: [], unexpected: [] };
  for (const command of commandsOf(run)) {
    const program = command.split(/\s+/)[0] ?? '';
    if (USER_PROGRAMS.has(program)) identity.userCommands.push(command);
    else if (LAYOUT_PROGRAMS.has(program)) identity.layoutCommands.push(command);
    else identity.unexpected.push(program);
    const rule = /^printf '%s\\n' '([^']*)' > (\/etc\/sudoers\.d\/\S+)$/.exec(command);
    if (rule?.[1] && rule[2]) identity.sudo = { file: rule[2], rule: rule[1] };
  }
  if (identity.sudo) {
    const file = identity.sudo.file;
    const chmod = identity.layoutCommands.find(
      (c) => c.startsWith('chmod ') && c.endsWith(` ${file}`),
    );
    identity.sudo.mode = chmod?.split(/\s+/)[1];
  }
  return identity;
}

/** `"$NAME"` / `$NAME` / `${NAME}` replaced from `values`, as the shell of a RUN would. */
export function substitute(command: string, values: Record<string, string>): string {
  return command.replace(/"?\$\{?(\w+)\}?"?/g, (whole, name: string) =>
    name in values ? (values[name] ?? '') : whole,
  );
}
