import { describe, expect, it } from 'vitest';
import { agentBaseEnv } from './agent-environment.js';

const base = (host: NodeJS.ProcessEnv) =>
  agentBaseEnv({ host, home: '/w/home', tmp: '/w/tmp', exposedSecrets: {} });

describe('agentBaseEnv', () => {
  it('keeps the host proxy for the agent but never for the gateway on loopback', () => {
    const env = base({ HTTPS_PROXY: 'http://proxy:3128', NO_PROXY: 'corp.example,localhost' });
    expect(env.HTTPS_PROXY).toBe('http://proxy:3128');
    expect(env.NO_PROXY).toBe('corp.example,localhost,127.0.0.1,::1');
    expect(env.no_proxy).toBe(env.NO_PROXY);
  });

  it('adds no NO_PROXY when the host has no proxy', () => {
    const env = base({ PATH: '/usr/bin' });
    expect(env).not.toHaveProperty('NO_PROXY');
    expect(env).not.toHaveProperty('no_proxy');
  });
});
