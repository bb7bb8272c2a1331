import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type LocalWorld, startLocalWorld } from '../support/local-world/local-world.js';
import { executionPayload, writePrompt } from '../support/payloads.js';
import { type PlatformStandIn, startPlatformStandIn } from '../support/platform-stand-in.js';
import { processesOfUid } from '../support/processes.js';
import { plantedSecrets, runCli, tempDir, worldEnv } from '../support/run-cli.js';
import { type SsmStandIn, startSsmStandIn } from '../support/ssm-stand-in.js';

/**
 * A job with a platform (platform-api.md): events, heartbeat, cancellation, the clanker and
 * secrets from the platform and SSM, and the Result — against a platform stand-in over HTTP
 * that can fail, stall or be down, with the real Claude Code doing the work.
 */
describe('a job reporting to its platform', () => {
  const secrets = plantedSecrets();
  const callbackToken = `cb_planted${Date.now().toString(36)}0123456789`;
  const ssmValue = `ssm-secret-planted-${Date.now().toString(36)}-value`;
  const platformValue = `platform-secret-planted-${Date.now().toString(36)}-value`;
  let world: LocalWorld;
  let platform: PlatformStandIn;
  let ssm: SsmStandIn;
  let counter = 0;

  beforeAll(async () => {
    world = await startLocalWorld({ credentials: secrets });
    ssm = await startSsmStandIn({ parameters: { '/viberator/acme/sentry': ssmValue } });
  });
  afterAll(async () => {
    await Promise.allSettled([world?.close(), ssm?.close()]);
  });
  afterEach(async () => platform?.close());

  interface JobOptions {
    prompt?: string;
    overrides?: Record<string, unknown>;
    env?: Record<string, string>;
    /** Set up the platform stand-in (faults, clanker, secrets) before the job starts. */
    before?: (platform: PlatformStandIn) => void | Promise<void>;
  }

  /** Starts a job against a fresh platform stand-in; `done` settles when the CLI exits. */
  async function startJob(opts: JobOptions) {
    counter += 1;
    const jobId = `job_platform_${counter}`;
    platform = await startPlatformStandIn({ token: callbackToken, jobId });
    await opts.before?.(platform);
    const payload = executionPayload({
      jobId,
      repoUrl: world.repoUrl,
      modelUrl: world.model.url,
      prompt: opts.prompt ?? writePrompt('notes.md', `platform job ${counter}`),
      overrides: {
        ticket: { id: `t${counter}`, key: `PLT-${counter}`, title: 'Platform job' },
        callback: { url: platform.url, token: callbackToken },
        ...opts.overrides,
      },
    });
    const done = runCli(['run', '--payload', '-'], {
      env: worldEnv(world, await tempDir('viberator-platform-'), {
        AWS_ENDPOINT_URL_SSM: ssm.url,
        AWS_REGION: 'eu-west-1',
        AWS_ACCESS_KEY_ID: 'AKIASTANDIN000000000',
        AWS_SECRET_ACCESS_KEY: 'stand-in-secret-access-key',
        AWS_EC2_METADATA_DISABLED: 'true',
        VIBERATOR_LOG_LEVEL: 'debug',
        ...opts.env,
      }),
      stdin: JSON.stringify(payload),
    });
    return { platform, done, jobId };
  }

  async function job(opts: JobOptions) {
    const { done, jobId } = await startJob(opts);
    return { run: await done, jobId };
  }

  /** Every seq from 1 to the last, each event once (by seq), in order of first arrival. */
  function expectContiguous(events: Array<{ seq: number }>) {
    const seqs = [...new Set(events.map((event) => event.seq))];
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
  }

  function expectNoLeak(run: { stdout: string; stderr: string }) {
    const everything = `${run.stdout}${run.stderr}${JSON.stringify(platform.requests)}`;
    for (const secret of [
      secrets.githubToken,
      secrets.anthropicKey,
      callbackToken,
      ssmValue,
      platformValue,
    ]) {
      expect(everything).not.toContain(secret);
    }
  }

  it('a flaky platform: every event delivered in order, the Result accepted exactly once', async () => {
    const { run } = await job({
      before: (stand) => {
        stand.fail('events', { status: 503 }, 3);
        stand.fail('result', { status: 502 }, 2);
      },
    });
    expect(run.result?.failure).toBeUndefined();
    expect(run.code).toBe(0);
    expect(platform.results).toHaveLength(1);
    expect(platform.results[0]).toMatchObject({ status: 'completed', prUrl: run.result?.prUrl });
    expectContiguous(platform.events);
    const statuses = platform.events
      .filter((event) => event.type === 'status')
      .map((event) => `${event.step} ${event.state}`);
    expect(statuses).toContain('opening_pr completed');
    expect(statuses.at(-1)).toBe('reporting completed');
    expect(platform.maxInFlightOn('events')).toBe(1);
    const request = platform.requests.find((r) => r.route === 'result');
    expect(request?.headers['user-agent']).toMatch(/^viberator-worker\/\d/);
    expectNoLeak(run);
  });

  it('a silent agent: heartbeats keep coming', async () => {
    const { run } = await job({
      prompt: 'Think quietly.\n[[bash]]\nsleep 3\n[[end]]\n[[write quiet.md]]\nquiet\n[[end]]\n',
      env: { VIBERATOR_HEARTBEAT_INTERVAL: '0.5' },
    });
    expect(run.result?.failure).toBeUndefined();
    const empty = platform.requests.filter(
      (r) => r.route === 'events' && (r.body as { events?: unknown[] })?.events?.length === 0,
    );
    expect(empty.length).toBeGreaterThanOrEqual(3);
  });

  it('a cancel answer while the agent runs: cancelled, not retryable, within 10 s, nothing left', async () => {
    const uid = 61950;
    const { platform: stand, done } = await startJob({
      prompt:
        'Work slowly.\n[[bash]]\npython3 -c "import time; time.sleep(60)"\n[[end]]\n[[write late.md]]\nlate\n[[end]]\n',
      env: {
        VIBERATOR_AGENT_USER: `${uid}:${uid}`,
        VIBERATOR_KILL_GRACE: '2',
        VIBERATOR_HEARTBEAT_INTERVAL: '1',
      },
    });
    // Wait for the agent to be running, then answer the next events POST with cancel.
    const deadline = Date.now() + 30_000;
    while (
      !stand.events.some((e) => e.type === 'status' && e.step === 'running_agent') &&
      Date.now() < deadline
    ) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const asked = Date.now();
    stand.requestCancel();
    const run = await done;
    expect(Date.now() - asked).toBeLessThan(10_000);
    expect(run.code).toBe(1);
    expect(run.result?.failure).toMatchObject({
      code: 'cancelled',
      retryable: false,
      step: 'running_agent',
    });
    expect(run.result?.failure.message).toContain('the platform asked to stop the job');
    expect(platform.results[0]).toMatchObject({ failure: { code: 'cancelled', retryable: false } });
    expect(run.result?.branch).toBeUndefined();
    if (process.getuid?.() === 0) expect(await processesOfUid(uid)).toEqual([]);
  });

  it('the platform down for the whole job: the outcome stands, the Result is spooled, exit 3', async () => {
    const { run } = await job({
      env: { VIBERATOR_RESULT_DEADLINE: '2' },
      before: (stand) => stand.down(),
    });
    expect(run.code).toBe(3);
    expect(run.result).toMatchObject({ status: 'completed' });
    expect(run.result?.prUrl).toBeDefined();
    expect(run.stderr).toContain('the Result could not be delivered to the platform');
    expect(run.stderr).toContain('spooled');
    expectNoLeak(run);
  });

  it('the clanker from the platform; a 500 there is config_unavailable, retryable', async () => {
    const found = await job({
      overrides: { clanker: undefined, clankerId: 'clk_remote' },
      before: (stand) => {
        stand.clanker = {
          id: 'clk_remote',
          name: 'remote-bot',
          agent: 'claude-code',
          baseUrl: world.model.url,
        };
      },
    });
    expect(found.run.result?.failure).toBeUndefined();
    expect(platform.requests.some((r) => r.route === 'clanker')).toBe(true);
    expect(found.run.result?.branch).toBe(`viberator/PLT-${counter}`);

    const { run } = await job({
      overrides: { clanker: undefined, clankerId: 'clk_remote' },
      before: (stand) => stand.fail('clanker', { status: 500 }, 'always'),
    });
    expect(run.result?.failure).toMatchObject({
      code: 'config_unavailable',
      retryable: true,
      step: 'resolving_config',
    });
    expect(platform.results).toHaveLength(1);
  }, 90_000);

  it('secrets from env, the platform and SSM reach the agent; the values leak nowhere', async () => {
    const { run } = await job({
      before: (stand) => {
        stand.secrets = { linear: platformValue };
      },
      prompt:
        'Check.\n[[bash]]\nfor v in SENTRY_TOKEN LINEAR_TOKEN; do if [ -n "$(printenv $v)" ]; then echo "$v set"; fi; done > secrets-seen.txt\n[[end]]\n[[answer]]\nDone.\n[[end]]\n',
      overrides: {
        secrets: [
          { name: 'ANTHROPIC_API_KEY' },
          { name: 'GITHUB_TOKEN' },
          { name: 'SENTRY_TOKEN', ref: 'ssm:/viberator/acme/sentry' },
          { name: 'LINEAR_TOKEN', ref: 'platform:linear' },
        ],
      },
    });
    expect(run.result?.failure).toBeUndefined();
    const secretsRequests = platform.requests.filter((r) => r.route === 'secrets');
    expect(secretsRequests).toHaveLength(1);
    expect(secretsRequests[0]?.body).toEqual({ keys: ['linear'] });
    expect(ssm.requests.some((r) => r.names.includes('/viberator/acme/sentry'))).toBe(true);
    expectNoLeak(run);
  });

  it('a missing platform secret and a missing SSM parameter: missing_secret naming both refs', async () => {
    const { run } = await job({
      overrides: {
        secrets: [
          { name: 'ANTHROPIC_API_KEY' },
          { name: 'GITHUB_TOKEN' },
          { name: 'SENTRY_TOKEN', ref: 'ssm:/viberator/acme/missing' },
          { name: 'LINEAR_TOKEN', ref: 'platform:absent' },
          { name: 'OPTIONAL_TOKEN', ref: 'platform:also-absent', required: false },
        ],
      },
    });
    expect(run.result?.failure).toMatchObject({
      code: 'missing_secret',
      retryable: false,
      step: 'fetching_credentials',
    });
    expect(run.result?.failure.message).toContain('SENTRY_TOKEN (ssm:/viberator/acme/missing)');
    expect(run.result?.failure.message).toContain('LINEAR_TOKEN (platform:absent)');
    expect(run.result?.failure.message).not.toContain('OPTIONAL_TOKEN');
    expect(run.stderr).toContain(
      'optional secret OPTIONAL_TOKEN (platform:also-absent) was not found: skipped',
    );
    expect(platform.results[0]).toMatchObject({ failure: { code: 'missing_secret' } });
  });
});
