import { readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { WorkerError } from '../errors.js';
import { validatePayload } from './validate.js';

const examples = resolve(import.meta.dirname, '../../../shared/spec/examples');

describe('payload validation', async () => {
  const files = await readdir(examples).catch(() => [] as string[]);

  it.runIf(files.length > 0)('accepts every example of the spec', async () => {
    for (const file of files) {
      const validated = validatePayload(JSON.parse(await readFile(join(examples, file), 'utf8')));
      expect(validated.payload.version, file).toBe(1);
    }
  });

  it('applies the defaults of payload.md', () => {
    const { payload, localMode } = validatePayload({
      version: 1,
      jobId: 'j1',
      template: 'claw_scheduled_task',
      prompt: 'p',
      project: { id: 'p1' },
      claw: { id: 'c', key: 'nightly' },
      repository: { url: 'https://github.com/acme/app.git' },
      clanker: { id: 'k', agent: 'codex' },
      unknownTopLevel: { ignored: true },
    });
    expect(localMode).toBe(true);
    expect(payload.project.branchNameTemplate).toBe('viberator/{{ ticket }}');
    expect(payload.project.workerSettings.maxExecutionTime).toBe(3600);
    expect(payload.repository.baseBranch).toBe('main');
    expect(payload.secrets).toEqual([]);
  });

  it('reports every problem with its JSON path', () => {
    try {
      validatePayload({
        version: 1,
        jobId: 'a/b',
        template: 'nope',
        prompt: 'x',
        project: {},
        repository: { url: 'https://x.test/a/b' },
        clanker: {
          id: 'k',
          agent: 'claude-code',
          skills: [{ name: 's', files: [{ path: '../../etc/passwd', content: '' }] }],
        },
        secrets: [{ name: 'A' }, { name: 'A' }],
      });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(WorkerError);
      const message = (error as WorkerError).message;
      for (const path of [
        'jobId:',
        'template:',
        'project.id: is required',
        'clanker.skills[0].files[0].path:',
        'secrets[1].name: duplicate secret A',
      ]) {
        expect(message).toContain(path);
      }
    }
  });

  it('refuses credentials in the repository URL', () => {
    expect(() =>
      validatePayload({
        version: 1,
        jobId: 'j',
        template: 'ticket_research',
        prompt: 'p',
        project: { id: 'p' },
        ticket: { id: 't', key: 'K-1' },
        repository: { url: 'https://x:ghp_abc@github.com/a/b.git' },
        clanker: { id: 'k', agent: 'claude-code' },
      }),
    ).toThrow(/must not carry credentials/);
  });

  describe("env: refs to the worker's own variables (VIBERATOR_*, AWS_*)", () => {
    const withSecrets = (secrets: unknown[]) => ({
      version: 1,
      jobId: 'j',
      template: 'ticket_research',
      prompt: 'p',
      project: { id: 'p' },
      ticket: { id: 't', key: 'K-1' },
      repository: { url: 'https://github.com/acme/app.git' },
      clanker: { id: 'k', agent: 'claude-code' },
      secrets,
    });
    const problemsOf = (secrets: unknown[]): string => {
      try {
        validatePayload(withSecrets(secrets));
        return '';
      } catch (error) {
        expect(error).toBeInstanceOf(WorkerError);
        expect((error as WorkerError).code).toBe('invalid_payload');
        return (error as WorkerError).message;
      }
    };

    it('refuses an explicit env: ref, with its JSON path', () => {
      const message = problemsOf([
        { name: 'ANTHROPIC_API_KEY' },
        { name: 'LEAK', ref: 'env:AWS_SECRET_ACCESS_KEY' },
        { name: 'CONF', ref: 'env:VIBERATOR_WORK_ROOT', required: false },
      ]);
      expect(message).toContain(
        "secrets[1].ref: env:AWS_SECRET_ACCESS_KEY names the worker's own configuration or credentials",
      );
      expect(message).toContain('secrets[2].ref: env:VIBERATOR_WORK_ROOT names');
      expect(message).not.toContain('secrets[0]');
    });

    it('refuses a secret named like one when ref is absent (absent means env:<name>)', () => {
      expect(problemsOf([{ name: 'AWS_SECRET_ACCESS_KEY' }])).toContain(
        'secrets[0].ref: env:AWS_SECRET_ACCESS_KEY (implied: ref is absent) names',
      );
    });

    it('allows such names with another source, and other env: variables', () => {
      expect(
        problemsOf([
          { name: 'AWS_SECRET_ACCESS_KEY', ref: 'ssm:/team/aws-key' },
          { name: 'VIBERATOR_X', ref: 'platform:x' },
          { name: 'GITHUB_TOKEN' },
          { name: 'MY_AWS_KEY', ref: 'env:MY_AWS_KEY' },
        ]),
      ).toBe('');
    });

    it('is reported beside the other problems of the payload', () => {
      const message = problemsOf([{ name: 'AWS_REGION' }, { name: 'X', ref: 'vault:x' }]);
      expect(message).toContain('secrets[0].ref: env:AWS_REGION');
      expect(message).toContain('secrets[1].ref: must be env:NAME');
    });
  });
});
