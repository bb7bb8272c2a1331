import { describe, expect, it } from 'vitest';
import { gitlabProjectPath } from './gitlab/merge-request.js';
import { SCM_PROVIDERS, scmApiUrl, scmProviderFor } from './registry.js';

describe('choosing the SCM', () => {
  it('takes repository.provider, else the host: gitlab.com is GitLab, anything else GitHub', () => {
    expect(scmProviderFor({ url: new URL('https://gitlab.com/g/app.git') }).id).toBe('gitlab');
    expect(scmProviderFor({ url: new URL('https://github.com/a/app.git') }).id).toBe('github');
    expect(scmProviderFor({ url: new URL('https://git.acme.dev/a/app.git') }).id).toBe('github');
    expect(
      scmProviderFor({ provider: 'gitea', url: new URL('https://gitlab.com/a/app.git') }).id,
    ).toBe('gitea');
    expect(scmProviderFor({}).id).toBe('github');
  });

  it('derives the API base from the origin; repository.apiUrl and GITHUB_API_URL override', () => {
    const ghe = new URL('https://ghe.acme.dev/acme/app.git');
    expect(
      scmApiUrl(SCM_PROVIDERS.github, new URL('https://github.com/a/b'), undefined, undefined),
    ).toBe('https://api.github.com');
    expect(scmApiUrl(SCM_PROVIDERS.github, ghe, undefined, undefined)).toBe(
      'https://ghe.acme.dev/api/v3',
    );
    expect(scmApiUrl(SCM_PROVIDERS.github, ghe, undefined, 'https://x.test/api/v3/')).toBe(
      'https://x.test/api/v3',
    );
    expect(scmApiUrl(SCM_PROVIDERS.github, ghe, 'https://y.test/api', 'https://x.test')).toBe(
      'https://y.test/api',
    );
    expect(
      scmApiUrl(
        SCM_PROVIDERS.gitlab,
        new URL('https://gl.acme.dev/g/app.git'),
        undefined,
        'https://x.test',
      ),
    ).toBe('https://gl.acme.dev/api/v4');
    expect(
      scmApiUrl(
        SCM_PROVIDERS.gitea,
        new URL('https://code.acme.dev/o/app.git'),
        undefined,
        undefined,
      ),
    ).toBe('https://code.acme.dev/api/v1');
  });

  it('names each provider token and its git user name', () => {
    expect(Object.values(SCM_PROVIDERS).map((p) => [p.id, p.tokenSecret, p.gitUsername])).toEqual([
      ['github', 'GITHUB_TOKEN', 'x-access-token'],
      ['gitlab', 'GITLAB_TOKEN', 'oauth2'],
      ['gitea', 'GITEA_TOKEN', 'oauth2'],
    ]);
  });
});

describe('GitLab project paths', () => {
  it('keep groups and subgroups, drop .git', () => {
    const api = 'https://gitlab.com/api/v4';
    expect(gitlabProjectPath(new URL('https://gitlab.com/group/sub/app.git'), api)).toBe(
      'group/sub/app',
    );
    expect(gitlabProjectPath(new URL('https://gitlab.com/acme/app'), api)).toBe('acme/app');
  });

  it('leave out the path GitLab itself is served under', () => {
    expect(
      gitlabProjectPath(
        new URL('https://host.acme.dev/gitlab/group/app.git'),
        'https://host.acme.dev/gitlab/api/v4',
      ),
    ).toBe('group/app');
  });
});
