/** `https://github.com/acme/app.git` → `{ owner: 'acme', repo: 'app' }`. */
export function repoSlugFromUrl(url: URL): { owner: string; repo: string } | undefined {
  const parts = url.pathname
    .replace(/\.git$/, '')
    .split('/')
    .filter(Boolean);
  if (parts.length < 2) return undefined;
  const [owner, repo] = parts.slice(-2) as [string, string];
  return { owner, repo };
}
