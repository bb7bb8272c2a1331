/**
 * The contract every agent adapter keeps, run against the real CLI: one full execution job
 * through the built worker (as the agent user, against the git server, the GitHub stand-in
 * and the scripted model), then the three ways a model endpoint fails. Each agent's test file
 * calls {@link agentSuite} with what differs: the agent, its key's name, its model.
 */
import { rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentSlug } from '../../../src/agents/types.js';
import { type AgentProcessSighting, watchAgentEnviron } from '../../support/agent-environ-watch.js';
import { type LocalWorld, startLocalWorld } from '../../support/local-world/local-world.js';
import { readBranch } from '../../support/local-world/seed-repo.js';
import { sumReportedUsage } from '../../support/model-server/model-server.js';
import { executionPayload, writePrompt } from '../../support/payloads.js';
import { type CliRun, cliEnv, plantedSecrets, runCli, tempDir } from '../../support/run-cli.js';
import { scanFilesFor } from '../../support/scan-files.js';

export interface AgentSuiteOptions {
  agent: AgentSlug;
  /** The payload secret holding the model key, e.g. `OPENAI_API_KEY`. */
  keyName: string;
  /** `clanker.model`. */
  model: string;
  /** `clanker.baseUrl` for a server URL (default: the URL itself; some CLIs want `/v1`). */
  baseUrl?: (serverUrl: string) => string;
  /** The instructions file the CLI reads from the checkout, if it reads one there. */
  checkoutInstructions?: string;
  /** The environment variable the CLI reads its model key from (default: `keyName`). */
  cliKeyVariable?: string;
  /** Extra worker environment (e.g. `VIBERATOR_AGENT_BIN_MISTRAL_VIBE`). */
  env?: Record<string, string>;
  /** Seconds the endpoint-down case may take at most. */
  downWithinSeconds?: number;
}

/** A port nothing listens on: bound, then closed. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const MARKER = 'HOUSE-RULES-5521';

export function agentSuite(opts: AgentSuiteOptions): void {
  const baseUrl = opts.baseUrl ?? ((url: string) => url);
  describe(`${opts.agent}: the real CLI through the worker`, () => {
    const secrets = plantedSecrets();
    let world: LocalWorld;
    let workRoot: string;
    let jobs = 0;

    beforeAll(async () => {
      world = await startLocalWorld({
        credentials: secrets,
        files: {
          'README.md': '# Demo app\n',
          'src/index.js': "export const name = 'demo-app';\n",
          // The repository's own instructions file: it must reach the commit unchanged.
          ...(opts.checkoutInstructions
            ? { [opts.checkoutInstructions]: '# Repository rules\n' }
            : {}),
        },
      });
      workRoot = await tempDir(`viberator-${opts.agent}-`);
    });
    afterAll(async () => {
      await world?.close();
      // Workspaces a failed test kept (--keep-workspace) go with the work root.
      if (workRoot) await rm(workRoot, { recursive: true, force: true });
    });

    /** The id of the next job {@link run} starts. */
    const nextJobId = () => `job_${opts.agent.replace(/-/g, '_')}_${jobs + 1}`;

    const run = (
      prompt: string,
      over: {
        url?: string;
        key?: string;
        maxExecutionTime?: number;
        env?: Record<string, string>;
        keepWorkspace?: boolean;
      } = {},
    ): Promise<CliRun> => {
      const jobId = nextJobId();
      jobs++;
      const payload = executionPayload({
        jobId,
        repoUrl: world.repoUrl,
        modelUrl: '',
        prompt,
        overrides: {
          project: {
            id: 'proj_test',
            workerSettings: { maxExecutionTime: over.maxExecutionTime ?? 240 },
          },
          clanker: {
            id: 'clk_test',
            name: 'test-bot',
            agent: opts.agent,
            model: opts.model,
            baseUrl: baseUrl(over.url ?? world.model.url),
            agentsMd: `# House rules\n- Marker ${MARKER}: keep changes small.\n`,
          },
          secrets: [{ name: opts.keyName }, { name: 'GITHUB_TOKEN' }],
        },
      });
      return runCli(
        ['run', '--payload', '-', ...(over.keepWorkspace ? ['--keep-workspace'] : [])],
        {
          stdin: JSON.stringify(payload),
          timeoutMs: 280_000,
          env: cliEnv({
            VIBERATOR_WORK_ROOT: workRoot,
            GITHUB_API_URL: world.github.apiUrl,
            GITHUB_TOKEN: secrets.githubToken,
            [opts.keyName]: over.key ?? secrets.anthropicKey,
            VIBERATOR_KILL_GRACE: '2',
            ...opts.env,
            ...over.env,
          }),
        },
      );
    };

    it('edits, commits, pushes and opens a PR; instructions reach the model, not the commit', {
      timeout: 300_000,
    }, async () => {
      const before = world.model.requests.length;
      const workspace = join(workRoot, nextJobId());
      // Every process of this job's agent names its workspace (HOME, TMPDIR, config dirs).
      const watch = watchAgentEnviron({
        filter: (p) => Object.values(p.env).some((v) => v.includes(`${workspace}/`)),
      });
      let result: CliRun;
      let agentProcesses: AgentProcessSighting[] = [];
      try {
        result = await run(
          writePrompt(
            'src/login.js',
            "export const redirect = '/dashboard';",
            'Login now redirects to /dashboard.',
          ),
          { keepWorkspace: true },
        );
      } finally {
        agentProcesses = await watch.stop();
      }
      expect(result.result?.failure, result.stderr.slice(-3000)).toBeUndefined();
      expect(result.code).toBe(0);
      expect(result.result).toMatchObject({
        status: 'completed',
        agent: opts.agent,
        changedFiles: 1,
      });
      const branch = await readBranch(world.bareRepo, 'viberator/ENG-42');
      expect(branch?.sha).toBe(result.result?.commitSha);
      // Exactly the repository's files plus the edit: no instructions, config or prompt file.
      expect(branch?.files.sort()).toEqual(
        [
          'README.md',
          'src/index.js',
          'src/login.js',
          ...(opts.checkoutInstructions ? [opts.checkoutInstructions] : []),
        ].sort(),
      );
      expect(world.github.pulls.at(-1)?.html_url).toBe(result.result?.prUrl);

      const turns = world.model.requests.slice(before).flatMap((r) => (r.turn ? [r.turn] : []));
      expect(turns.length).toBeGreaterThan(0);
      expect(turns.some((t) => t.allText.includes(MARKER))).toBe(true);
      expect(turns.some((t) => t.model === opts.model || t.model?.endsWith(`/${opts.model}`))).toBe(
        true,
      );

      // Normalized events: an edit or command tool call and its result reached the progress.
      expect(result.progress.some((line) => / agent (edit|command) /.test(line))).toBe(true);
      // The model key never appears in what the worker printed.
      expect(result.stdout + result.stderr).not.toContain(secrets.anthropicKey);
      // Every call the CLI made is one the gateway forwards (it logs the ones it refuses).
      expect(result.stderr).not.toContain('the model gateway refused');

      // Usage is the gateway's metering: exactly what the model server reported for the job.
      // The server's input figure is the whole prompt; the Result splits off the cached part.
      const reported = sumReportedUsage(world.model.requests.slice(before));
      expect(reported.inputTokens).toBeGreaterThan(0);
      const usage = result.result?.usage as Record<string, number | undefined> | undefined;
      expect(usage, JSON.stringify(usage)).toBeDefined();
      expect(
        (usage?.inputTokens ?? 0) + (usage?.cacheReadTokens ?? 0) + (usage?.cacheWriteTokens ?? 0),
      ).toBe(reported.inputTokens);
      expect(usage?.outputTokens).toBe(reported.outputTokens);

      // The agent's processes held the per-job key only: in its environment, never the real
      // one, and never in argv.
      const keyVariable = opts.cliKeyVariable ?? opts.keyName;
      const summary = agentProcesses.map((p) => `${p.pid} ${p.argv.slice(0, 3).join(' ')}`);
      expect(agentProcesses.length, 'no agent process seen in /proc').toBeGreaterThan(0);
      const leaks = agentProcesses.flatMap((p) => [
        ...Object.entries(p.env)
          .filter(([name, value]) => `${name}=${value}`.includes(secrets.anthropicKey))
          .map(([name]) => `${p.pid} ${p.argv[0]}: environ ${name}`),
        ...(p.argv.join(' ').includes(secrets.anthropicKey) ? [`${p.pid}: argv`] : []),
      ]);
      expect(leaks, 'the real key in an agent process').toEqual([]);
      const keys = agentProcesses.flatMap((p) => {
        const value = p.env[keyVariable];
        return value === undefined ? [] : [value];
      });
      expect(
        keys.length,
        `no agent process had ${keyVariable}: ${summary.join('; ')}`,
      ).toBeGreaterThan(0);
      for (const key of keys) {
        expect(key).not.toBe('');
        expect(key).not.toBe(secrets.anthropicKey);
      }

      // No file the job left in its workspace holds the real key.
      const scan = await scanFilesFor(workspace, secrets.anthropicKey);
      expect(scan.files).toBeGreaterThan(0);
      expect(scan.hits).toEqual([]);
      await rm(workspace, { recursive: true, force: true });
    });

    it("a rejected key is agent_failed carrying the CLI's message and naming the key", {
      timeout: 300_000,
    }, async () => {
      const started = Date.now();
      const before = world.model.requests.length;
      const result = await run('Say hello.', { key: 'sk-wrong-key' });
      expect(result.result?.failure?.code, result.stderr.slice(-3000)).toBe('agent_failed');
      expect(result.result?.failure?.message).toContain(opts.keyName);
      // The gateway took the agent's per-job key and sent the wrong key upstream: the model
      // server saw the job's requests and refused every model call (none was decoded).
      const seen = world.model.requests.slice(before);
      expect(seen.length).toBeGreaterThan(0);
      expect(seen.filter((r) => r.turn !== undefined)).toEqual([]);
      expect(Date.now() - started).toBeLessThan(120_000);
    });

    it('an endpoint that is down is agent_failed in bounded time', {
      timeout: 300_000,
    }, async () => {
      const started = Date.now();
      const result = await run('Say hello.', {
        url: `http://127.0.0.1:${await closedPort()}`,
        maxExecutionTime: 200,
      });
      expect(result.result?.failure?.code, result.stderr.slice(-3000)).toBe('agent_failed');
      expect(Date.now() - started).toBeLessThan((opts.downWithinSeconds ?? 90) * 1000);
    });

    it('a model that hangs is agent_timeout at the wall clock', { timeout: 300_000 }, async () => {
      const result = await run('Wait.\n[[hang]]', { maxExecutionTime: 8 });
      expect(result.result?.failure?.code, result.stderr.slice(-3000)).toBe('agent_timeout');
      expect(result.result?.failure?.message).toContain('maxExecutionTime');
    });

    it('a model that hangs is agent_timeout at the inactivity limit', {
      timeout: 300_000,
    }, async () => {
      const result = await run('Wait.\n[[hang]]', {
        env: { VIBERATOR_AGENT_INACTIVITY_TIMEOUT: '6' },
      });
      expect(result.result?.failure?.code, result.stderr.slice(-3000)).toBe('agent_timeout');
      expect(result.result?.failure?.message).toContain('VIBERATOR_AGENT_INACTIVITY_TIMEOUT');
    });
  });
}
