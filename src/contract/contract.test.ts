import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  CONTRACT_PATH,
  openApiValidators,
  payloadValidator,
  problems,
} from '../../test/support/contract-validator.js';
import type { Result } from '../core/result.js';
import type { WorkerEvent } from '../events.js';
import { payloadSchema } from '../payload/schema.js';
import type { DropNotice } from '../platform/event-delivery.js';
import { contractFiles, openApiDocument, payloadJsonSchema } from './documents.js';
import { CONTRACT_SCHEMAS, eventSchema, resultSchema } from './schemas.js';

const EXAMPLES = resolve(import.meta.dirname, '../../../shared/spec/examples');

const ts = '2026-11-24T21:00:00.000Z';

/** One event of each type, as the worker makes them (typed: they must be WorkerEvents). */
const EVENTS: WorkerEvent[] = [
  { seq: 1, ts, type: 'status', step: 'received', state: 'started' },
  { seq: 2, ts, type: 'agent.message', role: 'assistant', text: 'hello' },
  { seq: 3, ts, type: 'agent.thinking', text: 'hmm' },
  { seq: 4, ts, type: 'agent.tool_call', id: 't1', name: 'Bash', kind: 'command', input: {} },
  { seq: 5, ts, type: 'agent.tool_result', id: 't1', ok: true, output: 'ok' },
  { seq: 6, ts, type: 'agent.usage', inputTokens: 10, costUsd: 0.01 },
  { seq: 7, ts, type: 'log', level: 'warn', message: 'careful' },
];

const NOTICE: DropNotice = {
  seq: 8,
  ts,
  type: 'log',
  level: 'warn',
  message: 'the platform was not keeping up: …',
  dropped: { fromSeq: 8, toSeq: 12, count: 4, types: { 'agent.thinking': 4 } },
};

const RESULT: Result = {
  jobId: 'job_01JD7Q',
  status: 'failed',
  phase: 'execution',
  agent: 'claude-code',
  usage: { inputTokens: 0, outputTokens: 0, costUsd: 0.12 },
  artifacts: ['s3://acme-viberator/jobs/job_01JD7Q/transcript.jsonl'],
  startedAt: ts,
  finishedAt: ts,
  durationMs: 81234,
  failure: {
    code: 'missing_secret',
    message: 'secret ANTHROPIC_API_KEY (ssm:/viberator/acme/anthropic) was not found',
    retryable: false,
    step: 'fetching_credentials',
  },
};

describe('the published contract (docs/contract/)', () => {
  it('is what `npm run contract` generates: the checked-in files have not drifted', async () => {
    for (const [name, text] of Object.entries(contractFiles())) {
      const checkedIn = await readFile(resolve(CONTRACT_PATH, name), 'utf8').catch(() => '');
      expect(checkedIn, `${name} is stale: run \`npm run contract\``).toBe(text);
    }
  });

  it('documents the four calls with bearer auth, the User-Agent and a schema per body', () => {
    const document = openApiDocument() as Record<string, any>;
    expect(document.openapi).toBe('3.1.0');
    expect(document.security).toEqual([{ bearerAuth: [] }]);
    expect(document.components.securitySchemes.bearerAuth).toMatchObject({
      type: 'http',
      scheme: 'bearer',
    });
    const operations = Object.entries(document.paths).flatMap(([path, item]: [string, any]) =>
      ['get', 'post'].filter((method) => item[method]).map((method) => `${method} ${path}`),
    );
    expect(operations).toEqual([
      'get /jobs/{jobId}/clanker',
      'post /jobs/{jobId}/secrets',
      'post /jobs/{jobId}/events',
      'post /jobs/{jobId}/result',
    ]);
    expect(document.components.parameters.UserAgent).toMatchObject({
      name: 'User-Agent',
      in: 'header',
    });
    expect(Object.keys(document.components.schemas)).toEqual(Object.keys(CONTRACT_SCHEMAS));
  });

  it('every schema of the OpenAPI document compiles, its $refs resolved', () => {
    const openApi = openApiValidators();
    for (const name of Object.keys(CONTRACT_SCHEMAS))
      expect(openApi.validator(name)).toBeTypeOf('function');
  });

  it('events, a drop notice and a Result validate (JSON Schema and zod agree); wrong ones do not', () => {
    const openApi = openApiValidators();
    expect(openApi.problems('EventsRequest', { events: [...EVENTS, NOTICE] })).toEqual([]);
    expect(openApi.problems('EventsRequest', { events: [] })).toEqual([]);
    for (const event of [...EVENTS, NOTICE])
      expect(eventSchema.safeParse(event).success).toBe(true);
    expect(openApi.problems('Result', RESULT)).toEqual([]);
    expect(resultSchema.safeParse(RESULT).success).toBe(true);

    const wrong: unknown[] = [
      { ...EVENTS[3], kind: 'shell' },
      { ...EVENTS[0], dropped: NOTICE.dropped }, // only a log event may carry `dropped`
      { ...EVENTS[1], seq: 0 },
      { ...EVENTS[2], ts: 'yesterday' },
      { seq: 9, ts, type: 'agent.unknown' },
    ];
    for (const event of wrong) {
      expect(openApi.problems('Event', event), JSON.stringify(event)).not.toEqual([]);
      expect(eventSchema.safeParse(event).success, JSON.stringify(event)).toBe(false);
    }
    const badResult = { ...RESULT, failure: { ...RESULT.failure, code: 'oops' } };
    expect(openApi.problems('Result', badResult)).not.toEqual([]);
    expect(openApi.problems('Result', { ...RESULT, extra: 1 })).not.toEqual([]);
  });

  it('the answers: a clanker, secrets (null is missing), events with and without cancel', () => {
    const openApi = openApiValidators();
    expect(openApi.problems('Clanker', { id: 'clk_1', agent: 'codex', extra: 'ok' })).toEqual([]);
    expect(openApi.problems('Clanker', { id: 'clk_1', agent: 'gpt' })).not.toEqual([]);
    expect(openApi.problems('SecretsAnswer', { secrets: { a: 'x', b: null } })).toEqual([]);
    expect(openApi.problems('SecretsAnswer', { secrets: { a: 1 } })).not.toEqual([]);
    expect(openApi.problems('EventsAnswer', {})).toEqual([]);
    expect(openApi.problems('EventsAnswer', { cancel: true })).toEqual([]);
    expect(openApi.problems('SecretsRequest', { keys: ['github-token'] })).toEqual([]);
    expect(openApi.problems('SecretsRequest', { keys: [] })).not.toEqual([]);
  });

  it('the payload schema refuses what the worker refuses at the JSON level', () => {
    const validate = payloadValidator(payloadJsonSchema());
    const minimal = {
      version: 1,
      jobId: 'job_1',
      template: 'ticket_research',
      prompt: 'Research.',
      project: { id: 'p' },
      repository: { url: 'https://github.com/acme/app.git' },
      futureKey: 'ignored',
    };
    expect(problems(validate, minimal)).toEqual([]);
    expect(payloadSchema.safeParse(minimal).success).toBe(true);
    for (const wrong of [
      { ...minimal, version: 2 },
      { ...minimal, jobId: '.hidden' },
      { ...minimal, template: 'other' },
      { ...minimal, prompt: '' },
      { ...minimal, secrets: [{ name: 'X', ref: 'vault:x' }] },
      { ...minimal, callback: { url: 'not a url', token: 't' } },
    ]) {
      expect(problems(validate, wrong), JSON.stringify(wrong)).not.toEqual([]);
      expect(payloadSchema.safeParse(wrong).success, JSON.stringify(wrong)).toBe(false);
    }
  });

  it.runIf(existsSync(EXAMPLES))(
    'the spec examples validate against payload.schema.json',
    async () => {
      const validate = payloadValidator();
      const names = (await readdir(EXAMPLES)).filter((name) => name.endsWith('.json'));
      expect(names.length).toBeGreaterThan(0);
      for (const name of names) {
        const example = JSON.parse(await readFile(resolve(EXAMPLES, name), 'utf8'));
        expect(problems(validate, example), name).toEqual([]);
        expect(payloadSchema.safeParse(example).success, name).toBe(true);
      }
    },
  );
});
