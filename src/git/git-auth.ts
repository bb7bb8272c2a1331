/**
 * The token reaches git as an `http.<origin>/.extraHeader` set through GIT_CONFIG_* variables
 * of the git process alone: never in argv, a remote URL or `.git/config`, and gone when the
 * git process ends, long before the agent starts.
 */
export function gitAuthEnv(
  repoUrl: URL | undefined,
  token: string | undefined,
): Record<string, string> {
  if (!repoUrl || !token) return {};
  const credentials = Buffer.from(`x-access-token:${token}`).toString('base64');
  return {
    GIT_CONFIG_COUNT: '1',
    GIT_CONFIG_KEY_0: `http.${repoUrl.origin}/.extraHeader`,
    GIT_CONFIG_VALUE_0: `Authorization: Basic ${credentials}`,
  };
}

/** The GIT_* variables simple-git must be told to pass on. */
export const GIT_ENV_ALLOWED = [
  'GIT_CONFIG_COUNT',
  'GIT_CONFIG_KEY_0',
  'GIT_CONFIG_VALUE_0',
  'GIT_CONFIG_NOSYSTEM',
  'GIT_TERMINAL_PROMPT',
  'GIT_SSL_CAINFO',
  'GIT_AUTHOR_NAME',
  'GIT_AUTHOR_EMAIL',
  'GIT_COMMITTER_NAME',
  'GIT_COMMITTER_EMAIL',
];
