/**
 * Host variables that child processes (git, agents) may need to reach the network and read
 * text the way the host does: locale, time zone, proxies and CA bundles. Nothing secret.
 */
export const HOST_NETWORK_VARIABLES = [
  'PATH',
  'LANG',
  'LC_ALL',
  'LC_CTYPE',
  'TZ',
  'HTTPS_PROXY',
  'HTTP_PROXY',
  'NO_PROXY',
  'https_proxy',
  'http_proxy',
  'no_proxy',
  'NODE_EXTRA_CA_CERTS',
  'SSL_CERT_FILE',
  'SSL_CERT_DIR',
  'GIT_SSL_CAINFO',
] as const;

/** The values of `names` that are set in `host`. */
export function pickHostVariables(
  host: NodeJS.ProcessEnv,
  names: readonly string[],
): Record<string, string> {
  const picked: Record<string, string> = {};
  for (const name of names) {
    const value = host[name];
    if (value) picked[name] = value;
  }
  return picked;
}
