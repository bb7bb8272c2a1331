import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EventStream } from '../../src/core/event-stream.js';
import { EventDelivery } from '../../src/platform/event-delivery.js';
import { PlatformClient } from '../../src/platform/platform-http.js';
import { Redactor } from '../../src/secrets/redactor.js';
import { VERSION } from '../../src/version.js';
import { openApiValidators, problems, readContractJson } from '../support/contract-validator.js';
import { type LocalWorld, startLocalWorld } from '../support/local-world/local-world.js';
import { executionPayload, writePrompt } from '../support/payloads.js';
import {
  type PlatformStandIn,
  type RecordedRequest,
  startPlatformStandIn,
} from '../support/platform-stand-in.js';
import { plantedSecrets, runCli, tempDir, worldEnv } from '../support/run-cli.js';

/**
 * Every request the worker really sends to its platform validates against the checked-in
 * OpenAPI document (docs/contract/openapi.json): method and path, the bearer token, the
 * headers and the body of each of the four calls.
 */
describe('the requests a job sends match the published OpenAPI document', () => {
  const secrets = plantedSecrets();
  const token = `cb_contract${Date.now().toString(36)}0123456789`;
  const document = readContractJson('openapi.json');
  const openApi = openApiValidators(document);
  const jobIdParam = openApi.validator('#/components/parameters/JobId/schema');
  const userAgentParam = openApi.validator('#/components/parameters/UserAgent/schema');
  let world: LocalWorld;
  let platform: PlatformStandIn | undefined;

  beforeAll(async () => {
    world = await startLocalWorld({ credentials: secrets });
  });
  afterAll(async () => world?.close());
  afterEach(async () => platform?.close());

  /** The operation of the document a request is for, by method and path template. */
  function operationOf(request: RecordedRequest): Record<string, any> | undefined {
    for (const [template, item] of Object.entries(document.paths as Record<string, any>)) {
      const pattern = new RegExp(`^${template.replace('{jobId}', '([^/?#]+)')}$`);
      const operation = item[request.method.toLowerCase()];
      if (pattern.test(request.path) && operation) return operation;
    }
    return undefined;
  }

  /** Everything wrong with one recorded request, as lines; empty when it matches. */
  function requestProblems(request: RecordedRequest): string[] {
    const where = `${request.method} ${request.path}`;
    const found: string[] = [];
    const operation = operationOf(request);
    if (!operation) return [`${where}: no such operation in the OpenAPI document`];
    if (!request.authorized) found.push(`${where}: no Authorization: Bearer <callback.token>`);
    if (request.headers['content-type'] !== 'application/json') {
      found.push(`${where}: Content-Type ${request.headers['content-type']}`);
    }
    const userAgent = request.headers['user-agent'];
    if (userAgent !== `viberator-worker/${VERSION}`)
      found.push(`${where}: User-Agent ${userAgent}`);
    for (const line of problems(userAgentParam, userAgent))
      found.push(`${where}: User-Agent ${line}`);
    for (const line of problems(jobIdParam, request.jobId)) found.push(`${where}: jobId ${line}`);
    const ref = operation.requestBody?.content?.['application/json']?.schema?.$ref as
      | string
      | undefined;
    if (ref === undefined) {
      if (request.body !== undefined) found.push(`${where}: a body where none is documented`);
    } else {
      for (const line of openApi.problems(ref, request.body)) found.push(`${where}: body ${line}`);
    }
    return found;
  }

  function expectAllValid(requests: RecordedRequest[]) {
    expect(requests.length).toBeGreaterThan(0);
    expect(requests.flatMap(requestProblems)).toEqual([]);
    expect(requests.map((r) => r.status)).toEqual(requests.map(() => 200));
  }

  let counter = 0;
  async function job(overrides: Record<string, unknown>, before: (p: PlatformStandIn) => void) {
    counter += 1;
    const jobId = `job_contract_${counter}`;
    const stand = await startPlatformStandIn({ token, jobId });
    platform = stand;
    before(stand);
    const payload = executionPayload({
      jobId,
      repoUrl: world.repoUrl,
      modelUrl: world.model.url,
      prompt: writePrompt('contract.md', `contract job ${counter}`),
      overrides: {
        ticket: { id: `t${counter}`, key: `CON-${counter}`, title: 'Contract job' },
        callback: { url: stand.url, token },
        ...overrides,
      },
    });
    const run = await runCli(['run', '--payload', '-'], {
      env: worldEnv(world, await tempDir('viberator-contract-')),
      stdin: JSON.stringify(payload),
    });
    return { run, stand };
  }

  it('a completed job with a clanker and a secret from the platform', async () => {
    const { run, stand } = await job(
      {
        clanker: undefined,
        clankerId: 'clk_remote',
        secrets: [
          { name: 'ANTHROPIC_API_KEY' },
          { name: 'GITHUB_TOKEN' },
          { name: 'LINEAR_TOKEN', ref: 'platform:linear' },
        ],
      },
      (p) => {
        p.clanker = {
          id: 'clk_remote',
          name: 'remote-bot',
          agent: 'claude-code',
          baseUrl: world.model.url,
        };
        p.secrets = { linear: `linear-planted-${Date.now().toString(36)}` };
      },
    );
    expect(run.result?.failure).toBeUndefined();
    expect(run.code).toBe(0);
    expect(new Set(stand.requests.map((r) => r.route))).toEqual(
      new Set(['clanker', 'secrets', 'events', 'result']),
    );
    expectAllValid(stand.requests);
    const types = new Set(stand.events.map((event) => event.type));
    for (const type of ['status', 'agent.tool_call', 'agent.tool_result', 'agent.message']) {
      expect(types).toContain(type);
    }
    // The Result on stdout is the one posted, and it too is a contract Result.
    expect(openApi.problems('Result', run.result)).toEqual([]);
  });

  it('a failed job (missing_secret)', async () => {
    const { run, stand } = await job(
      {
        secrets: [
          { name: 'ANTHROPIC_API_KEY' },
          { name: 'GITHUB_TOKEN' },
          { name: 'LINEAR_TOKEN', ref: 'platform:absent' },
        ],
      },
      () => {},
    );
    expect(run.result?.failure).toMatchObject({ code: 'missing_secret' });
    expect(stand.results).toHaveLength(1);
    expect(stand.requests.some((r) => r.route === 'secrets')).toBe(true);
    expectAllValid(stand.requests);
  });

  it('a drop notice, sent when the platform does not keep up', async () => {
    const stand = await startPlatformStandIn({ token, jobId: 'job_contract_drops' });
    platform = stand;
    stand.delay('events', 100);
    const delivery = new EventDelivery({
      client: new PlatformClient({ baseUrl: stand.url, token }),
      jobId: 'job_contract_drops',
      log: () => {},
      heartbeatMs: 60_000,
      flushMs: 10,
      maxQueued: 10,
    });
    const stream = new EventStream(new Redactor(), () => {});
    stream.subscribe(delivery.onEvent);
    stream.emit({ type: 'status', step: 'running_agent', state: 'started' });
    for (let i = 0; i < 30; i += 1) stream.emit({ type: 'agent.thinking', text: `thought ${i}` });
    stream.emit({ type: 'agent.usage', inputTokens: 3, outputTokens: 1, costUsd: 0.01 });
    expect(await delivery.flush(5000)).toEqual({ drained: true });
    await delivery.stop();
    expect(stand.events.some((event) => event.type === 'log' && event.dropped)).toBe(true);
    expectAllValid(stand.requests);
  });
});
