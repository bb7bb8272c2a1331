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
});
