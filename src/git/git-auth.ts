/**
 * The token reaches git as an `http.<origin>/.extraHeader` set through the command-line
 * configuration of the git process alone (GIT_CONFIG_* variables, see git-runner.ts): never
 * in argv, a remote URL or a config file, and gone when that git process ends. Only clone,
 * ls-remote and push get it.
 */
export function gitAuthConfig(
  repoUrl: URL | undefined,
  token: string | undefined,
  /** The user name the SCM documents for a token over HTTPS (the token is the password). */
  username = 'x-access-token',
): Array<[string, string]> {
  if (!repoUrl || !token) return [];
  const credentials = Buffer.from(`${username}:${token}`).toString('base64');
  return [[`http.${repoUrl.origin}/.extraHeader`, `Authorization: Basic ${credentials}`]];
}
