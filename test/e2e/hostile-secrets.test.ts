import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  closeHostile,
  closeSudoMode,
  type HostileRun,
  isRoot,
  mark,
  outcome,
  remoteBranchSha,
  remoteObjects,
  reportedSurfaces,
  runHostileJob,
  type SudoMode,
  sudoMode,
} from '../support/hostile-job.js';

/**
 * A payload secret with a planted value (≥ 20 characters, with `+`, `=` and `@`, which
 * URL-encoding changes), exposed to the agent's environment as payload secrets are by default.
 */
function deployToken(): string {
  return `dpl+${randomBytes(12).toString('hex')}=${randomBytes(4).toString('hex')}@x`;
}

/** The forms a scan must know: raw, base64, URL-encoded. */
function forms(value: string): Record<string, string> {
  return {
    raw: value,
    base64: Buffer.from(value).toString('base64'),
    url: encodeURIComponent(value),
  };
}

/**
 * Class 4 of issue 15: secrets are looked for in every byte pushed, whatever
 * `.gitattributes` says, text or binary, raw, base64 or URL-encoded, in commit messages and
 * file names. A hit is `push_failed`, not retryable, naming the secret (and the file), never
 * its value; nothing reaches the remote.
 */
describe.runIf(isRoot)('a hostile agent: secrets past the push scan', () => {
  const modes: SudoMode[] = [];
  let job: HostileRun | undefined;
  afterEach(async () => {
    await closeHostile(job);
    job = undefined;
  });
  afterAll(async () => {
    for (const mode of modes) await closeSudoMode(mode);
  });

  async function leakJob(jobId: string, variant: string, sudo?: SudoMode) {
    const value = deployToken();
    job = await runHostileJob({
      jobId,
      script: 'secrets.sh',
      args: [variant],
      env: { DEPLOY_TOKEN: value },
      secrets: [{ name: 'DEPLOY_TOKEN', ref: 'env:DEPLOY_TOKEN' }],
      sudo,
    });
    return { run: job, value };
  }

  async function expectRefused(run: HostileRun, value: string, file?: string): Promise<void> {
    expect(await mark(run, 'finished'), 'the hostile script did not run to its end').toBe('done\n');
    expect(await mark(run, 'has-secret'), 'DEPLOY_TOKEN was not in the agent’s environment').toBe(
      'yes\n',
    );
    // Nothing reached the remote: no work branch, the value in no object in any form.
    const objects = await remoteObjects(run.world);
    for (const [form, text] of Object.entries(forms(value)))
      expect(objects.includes(text), `the secret (${form}) is in an object on the remote`).toBe(
        false,
      );
    expect(await remoteBranchSha(run.world), `the work branch was pushed (${outcome(run)})`).toBe(
      undefined,
    );
    expect(run.run.result?.failure, outcome(run)).toMatchObject({
      code: 'push_failed',
      retryable: false,
    });
    const message = String(run.run.result?.failure?.message);
    expect(message, 'the message names the secret').toContain('DEPLOY_TOKEN');
    if (file) expect(message, 'the message names the file').toContain(file);
    for (const [surface, text] of Object.entries(await reportedSurfaces(run)))
      for (const [form, leak] of Object.entries(forms(value)))
        expect(text.includes(leak), `the secret (${form}) is in ${surface}`).toBe(false);
  }

  it('(a) in a file that .gitattributes marks -diff: refused, naming DEPLOY_TOKEN and the file', async () => {
    const { run, value } = await leakJob('job_h4_attributes', 'attributes');
    await expectRefused(run, value, 'deploy.conf');
  }, 150_000);

  it('(b) in a file with one NUL byte: refused, naming DEPLOY_TOKEN and the file', async () => {
    const { run, value } = await leakJob('job_h4_nul', 'nul-byte');
    await expectRefused(run, value, 'deploy.dat');
  }, 150_000);

  it('(c) base64-encoded: refused, naming DEPLOY_TOKEN and the file', async () => {
    const { run, value } = await leakJob('job_h4_base64', 'base64');
    await expectRefused(run, value, 'deploy.b64');
  }, 150_000);

  it('(d) URL-encoded: refused, naming DEPLOY_TOKEN and the file', async () => {
    const { run, value } = await leakJob('job_h4_url', 'url-encoded');
    await expectRefused(run, value, 'deploy.url');
  }, 150_000);

  it('(e) in an agent commit message: refused, naming DEPLOY_TOKEN', async () => {
    const { run, value } = await leakJob('job_h4_message', 'commit-message');
    await expectRefused(run, value);
  }, 150_000);

  it('(f) as a file name: refused, naming DEPLOY_TOKEN and never the name itself', async () => {
    const { run, value } = await leakJob('job_h4_file_name', 'file-name');
    await expectRefused(run, value);
  }, 150_000);

  it('(g) other attribute forms (binary, an undefined filter and diff driver): refused, naming both files', async () => {
    const { run, value } = await leakJob('job_h4_binary_attr', 'binary-attribute');
    await expectRefused(run, value, 'deploy.cfg');
    expect(String(run.run.result?.failure?.message)).toContain('deploy.ini');
  }, 150_000);

  it('(h) hexadecimal and UTF-16: refused, naming both files', async () => {
    const { run, value } = await leakJob('job_h4_hex_utf16', 'hex-utf16');
    await expectRefused(run, value, 'deploy.hex');
    expect(String(run.run.result?.failure?.message)).toContain('deploy.u16');
  }, 150_000);

  it('(i) as the target of a symlink (a link is data: its target is its blob): refused', async () => {
    const { run, value } = await leakJob('job_h4_link_target', 'link-target');
    await expectRefused(run, value, 'deploy.link');
  }, 150_000);

  it('sudo mode: a file with a NUL byte is refused the same way', async () => {
    const mode = await sudoMode();
    modes.push(mode);
    const { run, value } = await leakJob('job_h4_sudo', 'nul-byte', mode);
    await expectRefused(run, value, 'deploy.dat');
  }, 150_000);
});
