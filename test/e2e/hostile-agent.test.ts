import { execFile } from 'node:child_process';
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalWorld, startLocalWorld } from '../support/local-world/local-world.js';
import { marksDir } from '../support/marks-dir.js';
import { executionPayload } from '../support/payloads.js';
import { processesOfUid } from '../support/processes.js';
import { cliEnv, plantedSecrets, runCli, tempDir } from '../support/run-cli.js';
import { startTrapServer, type TrapServer } from '../support/trap-server.js';

const exec = promisify(execFile);
const ATTACK = resolve(import.meta.dirname, '../fixtures/hostile/attack.sh');
const isRoot = process.getuid?.() === 0;

async function readText(path: string): Promise<string> {
  return readFile(path, 'utf8').catch(() => '');
}

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await filesUnder(path)));
    else if (entry.isFile()) out.push(path);
  }
  return out;
}

/**
 * The agent is untrusted (runtime.md): a prompt-injected agent runs one shell script through
 * the real Claude Code's Bash tool that tries every trick of the issue — read the worker's
 * environment, plant hooks and config wherever git reads them, redirect the push to a trap,
 * link a root-only file, leave a setsid process behind, use the model gateway beyond model
 * calls. The job must still complete, and none of it may act after the agent step.
 */
describe.runIf(isRoot)('a hostile agent', () => {
  const secrets = plantedSecrets();
  const aws = {
    AWS_ACCESS_KEY_ID: 'AKIAPLANTEDHOSTILE01',
    AWS_SECRET_ACCESS_KEY: `awsSecretHostile${Date.now()}`,
  };
  const agentUid = 61990;
  let world: LocalWorld;
  let trap: TrapServer;
  let marks: string;
  let workRoot: string;

  beforeAll(async () => {
    world = await startLocalWorld({ credentials: secrets });
    trap = await startTrapServer();
    marks = await marksDir('viberator-hostile-');
    workRoot = await tempDir('viberator-hostile-work-');
  });
  afterAll(async () => {
    await exec('pkill', ['-KILL', '-U', String(agentUid)]).catch(() => {});
    await Promise.allSettled([world?.close(), trap?.close()]);
    await rm(marks, { recursive: true, force: true });
    await rm(workRoot, { recursive: true, force: true });
  });

  it('completes with its pull request, and nothing it planted acts after it', async () => {
    const origin = new URL(world.repoUrl).origin;
    const prompt = `Do the work.\n\n[[bash]]\nsh ${ATTACK} ${marks} ${trap.url} ${origin}/\n[[end]]\n[[answer]]\nDone.\n[[end]]\n`;
    const payload = executionPayload({
      jobId: 'job_hostile',
      repoUrl: world.repoUrl,
      modelUrl: world.model.url,
      prompt,
    });
    const run = await runCli(['run', '--payload', '-', '--keep-workspace'], {
      env: cliEnv({
        VIBERATOR_WORK_ROOT: workRoot,
        VIBERATOR_AGENT_USER: `${agentUid}:${agentUid}`,
        GITHUB_API_URL: world.github.apiUrl,
        ANTHROPIC_API_KEY: secrets.anthropicKey,
        GITHUB_TOKEN: secrets.githubToken,
        ...aws,
      }),
      stdin: JSON.stringify(payload),
    });
    const finishedAt = Date.now();

    // The script really ran, as the agent user, not root.
    expect(await readText(join(marks, 'finished'))).toBe('done\n');
    expect((await readText(join(marks, 'agent-uid'))).trim()).toBe(String(agentUid));

    // The job completed, with its pull request on the real server.
    expect(run.result?.failure).toBeUndefined();
    expect(run.code).toBe(0);
    expect(world.github.pulls).toHaveLength(1);
    expect(run.result?.prUrl).toBe(world.github.pulls[0]?.html_url);

    // Nothing reached the trap: no insteadOf, pushInsteadOf, proxy or remote of the agent's.
    expect(trap.requests).toEqual([]);

    // The worker's git dir stayed out of reach: nothing was planted there.
    const planted = await readText(join(marks, 'planted'));
    expect(planted).toContain('planted .git/hooks/pre-push');
    expect(planted).not.toContain('../git/');
    expect(planted).not.toContain('/etc/gitconfig');

    // Whatever ran a planted program ran as the agent, during its step, without a token.
    const ran = (await readText(join(marks, 'ran'))).split('\n').filter(Boolean);
    for (const line of ran) expect(line.startsWith(`${agentUid} `), line).toBe(true);
    expect(ran.join('\n')).not.toContain(secrets.githubToken);

    // The worker's environment was out of the agent's reach, the model key included: the
    // agent holds only its job gateway's key.
    const stolen = `${await readText(join(marks, 'stolen-environ'))}${await readText(join(marks, 'stolen-ps'))}`;
    expect(stolen.length).toBeGreaterThan(0);
    for (const secret of [secrets.githubToken, aws.AWS_SECRET_ACCESS_KEY, secrets.anthropicKey])
      expect(stolen).not.toContain(secret);

    // The gateway answered what is not a model call itself, and a request without its key.
    expect(await readText(join(marks, 'gateway'))).toBe('files 404\nbatches 404\nno-key 401\n');
    const upstreamPaths = world.model.requests.map((r) => `${r.method} ${r.path}`);
    expect(upstreamPaths).not.toContain('GET /v1/files');
    expect(upstreamPaths).not.toContain('POST /v1/messages/batches');
    // Nor did the keyless request (its body is `{}`) get past the gateway.
    expect(world.model.requests.some((r) => JSON.stringify(r.body) === '{}')).toBe(false);

    // No process of the agent outlived the job: the setsid loop is gone and stays gone.
    expect(await processesOfUid(agentUid)).toEqual([]);
    const alive = await readText(join(marks, 'alive'));
    await new Promise((r) => setTimeout(r, 700));
    expect(await readText(join(marks, 'alive'))).toBe(alive);
    expect(ran.length).toBe(
      (await readText(join(marks, 'ran'))).split('\n').filter(Boolean).length,
    );
    expect(Date.now() - finishedAt).toBeGreaterThanOrEqual(700);

    // What the agent left is data: the link travels as a link, the attributes as a file.
    const tree = (
      await exec('git', ['--git-dir', world.bareRepo, 'ls-tree', '-r', run.result?.branch ?? ''])
    ).stdout;
    expect(tree).toMatch(/^120000 blob \S+\tleaked-shadow$/m);
    expect(tree).toMatch(/\thostile\.txt$/m);
    const link = await exec('git', [
      '--git-dir',
      world.bareRepo,
      'cat-file',
      'blob',
      `${run.result?.branch}:leaked-shadow`,
    ]);
    expect(link.stdout).toBe('/etc/shadow');

    // No secret in anything the agent could write: its checkout, home, config, tmp.
    const ws = join(workRoot, 'job_hostile');
    for (const dir of ['repo', 'home', 'agent', 'tmp']) {
      for (const file of await filesUnder(join(ws, dir))) {
        const text = await readText(file);
        for (const secret of [secrets.githubToken, aws.AWS_SECRET_ACCESS_KEY, secrets.anthropicKey])
          expect(text.includes(secret), file).toBe(false);
      }
    }
    // The worker's git dir has no hook of the agent's and its own config.
    expect(await readdir(join(ws, 'git', 'hooks')).catch(() => [])).not.toContain('pre-push');
    expect(await readText(join(ws, 'git', 'config'))).not.toContain(trap.url);
    expect((await stat(join(ws, 'git'))).uid).toBe(0);
  });
});
