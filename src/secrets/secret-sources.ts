import { WorkerError } from '../errors.js';
import { envProvider, type SecretProvider } from './resolve.js';
import { SsmSecretError, ssmProvider } from './ssm-provider.js';

/**
 * The secret sources of one job: `env:` always, `ssm:` (AWS SSM Parameter Store), and
 * `platform:` when the job has a platform. An SSM failure says what to fix: access denied or a
 * bad name is `missing_secret` (not retryable), throttling, time-outs and network errors are
 * `config_unavailable` (retryable).
 */
export function secretSources(opts: {
  host: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  platform?: SecretProvider;
}): SecretProvider[] {
  const ssm = ssmProvider({ signal: opts.signal });
  const ssmSource: SecretProvider = {
    scheme: 'ssm',
    async resolve(keys) {
      try {
        return await ssm.resolve(keys);
      } catch (error) {
        if (!(error instanceof SsmSecretError)) throw error;
        throw new WorkerError(
          error.retryable ? 'config_unavailable' : 'missing_secret',
          `${error.message}${error.retryable ? '' : ' — check the parameter names and that the worker may read them (ssm:GetParameters, kms:Decrypt)'}`,
          { retryable: error.retryable, step: 'fetching_credentials', cause: error },
        );
      } finally {
        ssm.destroy?.();
      }
    },
  };
  return [envProvider(opts.host), ssmSource, ...(opts.platform ? [opts.platform] : [])];
}
