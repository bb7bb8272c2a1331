/**
 * The static check of every Dockerfile under infra/workers/docker/ (there is no Docker engine
 * here): pinned bases, multi-stage with a clean final stage, the non-root worker, the agent
 * user and its sudo rule, the pinned agent CLIs, and an entry file the build really produces.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, posix, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { AGENT_SLUGS } from '../../src/agents/types.js';
import {
  commandsOf,
  copiesFrom,
  DOCKER_DIR,
  type Dockerfile,
  envOf,
  execForm,
  finalStage,
  identityOf,
  instructionsOf,
  parseDockerfile,
  ROOT,
  type Stage,
} from './dockerfile.js';

const exec = promisify(execFile);

const agents = JSON.parse(readFileSync(join(ROOT, 'agents/package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  otherTools: Record<string, string>;
};
const worker = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  bin: Record<string, string>;
  exports: Record<string, string | Record<string, string>>;
  dependencies: Record<string, string>;
};
const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as {
  packages: Record<string, { version?: string }>;
};

/** The npm package of each agent that agents/package.json pins (the test's own table). */
const NPM_AGENT: Partial<Record<(typeof AGENT_SLUGS)[number], string>> = {
  codex: '@openai/codex',
  'gemini-cli': '@google/gemini-cli',
  'qwen-cli': '@qwen-code/qwen-code',
  opencode: 'opencode-ai',
  'kimi-code': '@moonshot-ai/kimi-code',
};

const NODE_BASE = /^node:24\.\d+\.\d+-slim$/;
const PINNED_IMAGE = /^[a-z0-9./-]+:\d+\.\d+\.\d+$/;
const BUILD_TOOLS = /\b(gcc|g\+\+|make|cmake|build-essential|autoconf|automake|libtool)\b/;
const SUDO_RULE = 'viberator ALL=(viberator-agent) NOPASSWD: ALL';

function allDockerfiles(): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.Dockerfile')) found.push(path);
    }
  };
  walk(DOCKER_DIR);
  return found.sort();
}

/** Which agents an image must carry, from its file name (the list). */
function expectedAgents(path: string): readonly string[] {
  const name = relative(DOCKER_DIR, path);
  if (name === 'viberator-docker-worker.Dockerfile' || name === 'viberator-ecs-worker.Dockerfile')
    return ['claude-code'];
  if (name === 'viberator-lambda.Dockerfile' || name === 'viberator-worker-multi-agent.Dockerfile')
    return AGENT_SLUGS;
  const slug = /^agents\/viberator-worker-(.+)\.Dockerfile$/.exec(name)?.[1];
  if (!slug) throw new Error(`unexpected Dockerfile ${name}`);
  return [slug];
}

const isLambda = (path: string) => path.endsWith('viberator-lambda.Dockerfile');
const stageNamed = (file: Dockerfile, name: string): Stage | undefined =>
  file.stages.find((s) => s.name === name);
const runsOf = (stage: Stage) => instructionsOf(stage, 'RUN').map((r) => r.args);

const files = allDockerfiles();

describe('the Dockerfiles', () => {
  it('exist for the four images and one per agent slug, nothing else', () => {
    expect(files.map((f) => relative(DOCKER_DIR, f))).toEqual(
      [
        'viberator-docker-worker.Dockerfile',
        'viberator-ecs-worker.Dockerfile',
        'viberator-lambda.Dockerfile',
        'viberator-worker-multi-agent.Dockerfile',
        ...AGENT_SLUGS.map((slug) => `agents/viberator-worker-${slug}.Dockerfile`),
      ].sort(),
    );
  });

  it('are what generate.mjs writes (edit the generator, then run it)', async () => {
    const generator = (await import(pathToFileURL(join(DOCKER_DIR, 'generate.mjs')).href)) as {
      dockerfiles(): { path: string; text: string }[];
    };
    for (const { path, text } of generator.dockerfiles()) {
      expect(readFileSync(join(ROOT, path), 'utf8'), path).toBe(text);
    }
  });

  it('all use the same exact Node 24 slim base', () => {
    const bases = new Set(files.map((f) => finalStage(parseDockerfile(f)).from));
    expect(bases.size).toBe(1);
    expect([...bases][0]).toMatch(NODE_BASE);
  });
});

describe.each(files.map((path) => [relative(DOCKER_DIR, path), path]))('%s', (_name, path) => {
  const file = parseDockerfile(path);
  const final = finalStage(file);
  const env = envOf(final);
  const lambda = isLambda(path);
  const wanted = expectedAgents(path);

  it('pins every image it starts from or copies from, and never says latest', () => {
    expect(file.text).not.toMatch(/[:@]latest\b/);
    const stageNames = new Set<string>();
    for (const stage of file.stages) {
      if (!stageNames.has(stage.from)) {
        expect(stage.from).toMatch(stage.from.startsWith('node:') ? NODE_BASE : PINNED_IMAGE);
      }
      if (stage.name) stageNames.add(stage.name);
      for (const copy of copiesFrom(stage)) {
        if (!stageNames.has(copy.from)) expect(copy.from).toMatch(PINNED_IMAGE);
      }
    }
    expect(final.from).toMatch(NODE_BASE);
    expect(final.name).toBeUndefined();
  });

  it('is multi-stage: the worker built with npm ci + build, only production files go on', () => {
    expect(file.stages.length).toBeGreaterThanOrEqual(2);
    const build = stageNamed(file, 'build');
    expect(build).toBeDefined();
    const commands = (build ? instructionsOf(build, 'RUN') : []).flatMap(commandsOf);
    expect(commands).toContain('npm run build');
    expect(commands.indexOf('npm ci --omit=dev --no-audit --no-fund')).toBeGreaterThan(
      commands.indexOf('npm run build'),
    );
    const fromBuild = copiesFrom(final).filter((c) => c.from === 'build');
    expect(fromBuild.map((c) => c.src).sort()).toEqual(
      ['/src/dist', '/src/node_modules', '/src/package.json'].sort(),
    );
  });

  it('leaves no build tool, package list, npm cache or uv in the final stage', () => {
    for (const run of runsOf(final)) {
      if (/apt-get install/.test(run)) {
        expect(run).not.toMatch(BUILD_TOOLS);
        expect(run).toMatch(/rm -rf \/var\/lib\/apt\/lists\/\*$/);
      }
      if (/npm (install|ci)\b/.test(run)) expect(run).toMatch(/npm cache clean --force$/);
      expect(run).not.toMatch(/\buv\b/);
    }
    for (const copy of copiesFrom(final)) {
      // The uv binary stays in its stage; only what it installed (/opt/viberator/uv) goes on.
      expect(['/uv', '/uvx', '/usr/local/bin/uv']).not.toContain(copy.src);
      expect(copy.from).not.toMatch(/^uv$|astral-sh\/uv/);
    }
    // Every other stage that installs cleans up too (its layers are not shipped, but its
    // caches would slow every rebuild that copies from it).
    for (const stage of file.stages) {
      for (const run of runsOf(stage)) {
        if (/apt-get install/.test(run)) expect(run).toMatch(/rm -rf \/var\/lib\/apt\/lists\/\*$/);
      }
    }
  });

  it('has git, curl, python3, ripgrep and ca-certificates, and TypeScript and Jest pinned', () => {
    const install = runsOf(final).find((r) => /apt-get install/.test(r)) ?? '';
    for (const pkg of ['git', 'curl', 'python3', 'ripgrep', 'ca-certificates']) {
      expect(install.split(/\s+/)).toContain(pkg);
    }
    expect(install.split(/\s+/).includes('sudo')).toBe(!lambda);
    const global = runsOf(final).find((r) => /npm install -g/.test(r)) ?? '';
    const typescript = /\btypescript@(\S+)/.exec(global)?.[1];
    expect(typescript).toBe(lock.packages['node_modules/typescript']?.version);
    expect(/\bjest@(\S+)/.exec(global)?.[1]).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('runs the worker as the non-root user viberator', () => {
    expect(instructionsOf(final, 'USER').at(-1)?.args).toBe('viberator');
    const identity = identityOf(final);
    expect(identity?.unexpected).toEqual([]);
    expect(identity?.userCommands.some((c) => /^useradd .* viberator$/.test(c))).toBe(true);
  });

  if (lambda) {
    it('Lambda: no agent user, no sudo rule: same-user mode, everything under /tmp', () => {
      expect(env.VIBERATOR_AGENT_USER).toBeUndefined();
      expect(file.text).not.toContain('viberator-agent');
      expect(file.text).not.toContain('sudoers');
      expect(env.HOME).toBe('/tmp');
      expect(env.VIBERATOR_WORK_ROOT).toMatch(/^\/tmp\//);
    });
  } else {
    it('creates viberator-agent, puts the worker in its group, and allows exactly that switch', async () => {
      expect(env.VIBERATOR_AGENT_USER).toBe('viberator-agent');
      const identity = identityOf(final);
      const users = identity?.userCommands ?? [];
      expect(users.some((c) => /^useradd .* viberator-agent$/.test(c))).toBe(true);
      expect(users.find((c) => /^useradd .* viberator$/.test(c))).toMatch(
        /--groups viberator-agent\b/,
      );
      expect(identity?.sudo).toEqual({
        file: '/etc/sudoers.d/viberator',
        rule: SUDO_RULE,
        mode: '0440',
      });
      expect(identity?.layoutCommands).toContain('visudo -cf /etc/sudoers.d/viberator');
      // The rule as written is valid sudoers syntax (checked by the real visudo).
      const dir = await mkdtemp(join(tmpdir(), 'viberator-sudoers-'));
      try {
        await writeFile(join(dir, 'rule'), `${identity?.sudo?.rule}\n`, { mode: 0o440 });
        await exec('visudo', ['-cf', join(dir, 'rule')]);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });

    it('gives the agent a work root it can traverse', () => {
      const identity = identityOf(final);
      const root = env.VIBERATOR_WORK_ROOT ?? '';
      const made = identity?.layoutCommands.find(
        (c) => c.startsWith('install -d') && c.split(/\s+/).includes(root),
      );
      expect(made).toMatch(/-o viberator -g viberator -m 0711 /);
      // Every directory above the work root is created by that command (0711) or a system one.
      for (let dir = posix.dirname(root); dir !== '/'; dir = posix.dirname(dir)) {
        expect(
          ['/home', '/tmp', '/var', '/var/lib'].includes(dir) || made?.includes(` ${dir}`),
        ).toBe(true);
      }
    });
  }

  it('installs the agent CLIs it carries at the versions agents/package.json pins', () => {
    // Claude Code: the worker's own dependency, in the production node_modules.
    expect(worker.dependencies['@anthropic-ai/claude-code']).toMatch(/^\d+\.\d+\.\d+$/);
    const npmWanted = wanted.flatMap((slug) => {
      const pkg = NPM_AGENT[slug as keyof typeof NPM_AGENT];
      return pkg ? [pkg] : [];
    });
    const agentsStage = stageNamed(file, 'agents');
    if (npmWanted.length === 0) {
      expect(agentsStage).toBeUndefined();
      expect(env.VIBERATOR_AGENTS_DIR).toBeUndefined();
    } else {
      expect(agentsStage).toBeDefined();
      const stage = agentsStage as Stage;
      expect(instructionsOf(stage, 'COPY').map((c) => c.args)).toContain(
        'agents/package.json agents/package-lock.json ./',
      );
      const commands = instructionsOf(stage, 'RUN').flatMap(commandsOf);
      const deleted = (commands.find((c) => c.startsWith('npm pkg delete ')) ?? '')
        .split(/\s+/)
        .slice(3)
        .map((key) => key.replace(/^dependencies\./, ''));
      const kept = Object.keys(agents.dependencies).filter((name) => !deleted.includes(name));
      expect(kept.sort()).toEqual([...npmWanted].sort());
      expect(commands).toContain('npm install --omit=dev --no-audit --no-fund');
      // The build checks the installed versions against the pins, written out literally.
      const check = commands.find((c) => c.startsWith('node -e')) ?? '';
      const literal = JSON.parse(/Object\.entries\((\{[^)]*\})\)/.exec(check)?.[1] ?? '{}');
      expect(literal).toEqual(
        Object.fromEntries(npmWanted.map((name) => [name, agents.dependencies[name]])),
      );
      const dir = stage.instructions.find((i) => i.keyword === 'WORKDIR')?.args;
      expect(env.VIBERATOR_AGENTS_DIR).toBe(dir);
      expect(copiesFrom(final)).toContainEqual({ from: 'agents', src: dir, dest: dir });
    }
    const vibe = stageNamed(file, 'vibe');
    if (wanted.includes('mistral-vibe')) {
      const version = agents.otherTools['mistral-vibe']?.split(' ')[0];
      const install = runsOf(vibe as Stage).find((r) => r.startsWith('uv tool install'));
      expect(install).toContain(`mistral-vibe==${version}`);
      const vibeEnv = envOf(vibe as Stage);
      for (const name of ['UV_TOOL_DIR', 'UV_TOOL_BIN_DIR', 'UV_PYTHON_INSTALL_DIR']) {
        expect(vibeEnv[name]).toMatch(/^\/opt\/viberator\/uv\//);
      }
      expect(install).toMatch(/chmod -R a\+rX \/opt\/viberator\/uv$/);
      expect(env.PATH?.split(':')).toContain(vibeEnv.UV_TOOL_BIN_DIR);
      expect(copiesFrom(final)).toContainEqual({
        from: 'vibe',
        src: '/opt/viberator/uv',
        dest: '/opt/viberator/uv',
      });
    } else {
      expect(vibe).toBeUndefined();
      expect(file.text).not.toContain('mistral-vibe');
    }
  });

  it('starts an entry file that the build produces and package.json declares', () => {
    const entrypoint = execForm(final, 'ENTRYPOINT') ?? [];
    const cmd = execForm(final, 'CMD') ?? [];
    const appDir = copiesFrom(final).find((c) => c.src === '/src/dist')?.dest ?? '';
    const builtPath = (imagePath: string) => {
      // An image path under the copied dist/ is that file in this checkout's build output.
      expect(imagePath.startsWith(`${appDir}/`), imagePath).toBe(true);
      return `dist/${imagePath.slice(appDir.length + 1)}`;
    };
    if (lambda) {
      const workdir = instructionsOf(final, 'WORKDIR').at(-1)?.args ?? '';
      expect(env.LAMBDA_TASK_ROOT).toBe(workdir);
      expect(entrypoint).toEqual([`${workdir}/node_modules/.bin/aws-lambda-ric`]);
      const build = stageNamed(file, 'build') as Stage;
      expect(runsOf(build).join(' ')).toMatch(
        /npm install --no-save .*aws-lambda-ric@\d+\.\d+\.\d+/,
      );
      const [handler = ''] = cmd;
      const moduleFile = `${builtPath(posix.join(workdir, handler.slice(0, handler.lastIndexOf('.'))))}.js`;
      const exportName = handler.slice(handler.lastIndexOf('.') + 1);
      expect(exportName).toBe('handler');
      const declared = worker.exports['./lambda'];
      const target =
        typeof declared === 'string' ? declared : (declared?.import ?? declared?.default);
      expect(target, 'package.json exports["./lambda"]').toBe(`./${moduleFile}`);
      expect(existsSync(join(ROOT, moduleFile)), `${moduleFile} in the build output`).toBe(true);
    } else {
      expect(entrypoint[0]).toBe('node');
      const cli = builtPath(entrypoint[1] ?? '');
      expect(worker.bin.viberator).toBe(cli);
      expect(existsSync(join(ROOT, cli)), `${cli} in the build output`).toBe(true);
      expect(['run', 'ecs']).toContain(cmd[0]);
    }
  });
});
