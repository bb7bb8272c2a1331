import { isAbsolute } from 'node:path';

/** Where the repository lives: a remote over HTTP(S), or (local mode only) a path on disk. */
export type RepositoryLocation = { kind: 'remote'; url: URL } | { kind: 'local'; path: string };

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

function isLoopbackHost(hostname: string): boolean {
  return LOOPBACK_HOSTS.has(hostname) || /^127\.\d+\.\d+\.\d+$/.test(hostname);
}

/**
 * Classifies `repository.url` per payload.md: https anywhere; http only for loopback hosts;
 * a local path or file:// URL only in local mode. Returns a problem text instead of throwing
 * so the caller can list it with the payload's other problems.
 */
export function parseRepositoryUrl(
  raw: string,
  localMode: boolean,
): { location: RepositoryLocation } | { problem: string } {
  if (raw.startsWith('file://') || isAbsolute(raw) || raw.startsWith('.')) {
    if (!localMode)
      return { problem: 'a local path or file:// URL is allowed only in local mode (no callback)' };
    const path = raw.startsWith('file://') ? new URL(raw).pathname : raw;
    return { location: { kind: 'local', path } };
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { problem: 'must be an https URL' };
  }
  if (url.username || url.password) {
    return {
      problem:
        'must not carry credentials; give the token as a secret (GITHUB_TOKEN, GITLAB_TOKEN or GITEA_TOKEN)',
    };
  }
  if (url.protocol === 'https:') return { location: { kind: 'remote', url } };
  if (url.protocol === 'http:' && isLoopbackHost(url.hostname))
    return { location: { kind: 'remote', url } };
  if (url.protocol === 'http:')
    return { problem: 'http is allowed only for loopback hosts; use https' };
  return { problem: `unsupported scheme ${url.protocol} (use https)` };
}
