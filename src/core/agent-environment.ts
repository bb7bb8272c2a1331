/** Host variables an agent may see: locale, time zone, proxies, CA bundles. Nothing else. */
const HOST_ALLOWLIST = [
  'PATH',
  'LANG',
  'LC_ALL',
  'LC_CTYPE',
  'TZ',
  'TERM',
  'HTTPS_PROXY',
  'HTTP_PROXY',
  'NO_PROXY',
  'https_proxy',
  'http_proxy',
  'no_proxy',
  'NODE_EXTRA_CA_CERTS',
  'SSL_CERT_FILE',
  'SSL_CERT_DIR',
];

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
  const env: Record<string, string> = {};
  for (const name of HOST_ALLOWLIST) {
    const value = opts.host[name];
    if (value) env[name] = value;
  }
  env.HOME = opts.home;
  env.TMPDIR = opts.tmp;
  env.XDG_CONFIG_HOME = `${opts.home}/.config`;
  env.XDG_CACHE_HOME = `${opts.home}/.cache`;
  env.XDG_DATA_HOME = `${opts.home}/.local/share`;
  env.XDG_STATE_HOME = `${opts.home}/.local/state`;
  env.CI = 'true';
  return { ...env, ...opts.exposedSecrets };
}
