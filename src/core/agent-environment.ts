import { HOST_NETWORK_VARIABLES, pickHostVariables } from '../config/host-variables.js';

/**
 * The environment every agent starts from: allowlisted host variables, its own HOME and
 * TMPDIR inside the workspace, and the secrets exposed to it. The worker's AWS credentials,
 * callback token and (unless exposed) GITHUB_TOKEN are never among them.
 */
export function agentBaseEnv(opts: {
  host: NodeJS.ProcessEnv;
  home: string;
  tmp: string;
  exposedSecrets: Record<string, string>;
}): Record<string, string> {
  const env = pickHostVariables(opts.host, [...HOST_NETWORK_VARIABLES, 'TERM']);
  env.HOME = opts.home;
  env.TMPDIR = opts.tmp;
  env.XDG_CONFIG_HOME = `${opts.home}/.config`;
  env.XDG_CACHE_HOME = `${opts.home}/.cache`;
  env.XDG_DATA_HOME = `${opts.home}/.local/share`;
  env.XDG_STATE_HOME = `${opts.home}/.local/state`;
  env.CI = 'true';
  return { ...env, ...opts.exposedSecrets };
}
