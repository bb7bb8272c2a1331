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
  bypassProxyForLoopback(env);
  return { ...env, ...opts.exposedSecrets };
}

/** Loopback names, which every CLI's proxy handling recognises in NO_PROXY. */
const LOOPBACK = ['127.0.0.1', 'localhost', '::1'];

/**
 * The agent's model endpoint is the job's gateway on 127.0.0.1: with a host proxy set, its
 * requests must not go to the proxy (which cannot reach the worker's loopback). The gateway
 * itself takes the proxy for the upstream.
 */
function bypassProxyForLoopback(env: Record<string, string>): void {
  const proxied = ['HTTPS_PROXY', 'HTTP_PROXY', 'https_proxy', 'http_proxy'].some((n) => env[n]);
  if (!proxied) return;
  const entries = (env.NO_PROXY ?? env.no_proxy ?? '').split(',').filter(Boolean);
  const noProxy = [...entries, ...LOOPBACK.filter((name) => !entries.includes(name))].join(',');
  env.NO_PROXY = noProxy;
  env.no_proxy = noProxy;
}
