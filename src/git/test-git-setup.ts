import { join } from 'node:path';
import type { Workspace } from '../workspace/workspace.js';
import type { GitSetup } from './git-runner.js';

/** The git setup of a job on a local repository `origin` in workspace `ws`, for git-level tests. */
export function testGitSetup(origin: string, ws: Workspace): GitSetup {
  return {
    source: origin,
    tokenSecret: 'GITHUB_TOKEN',
    gitUsername: 'x-access-token',
    author: { name: 'Viberator', email: 'v@example.invalid' },
    hostEnv: { PATH: process.env.PATH },
    home: join(ws.worker, 'home'),
    gitDir: ws.gitDir,
    workTree: ws.checkout,
    limits: { networkMs: 60_000, localMs: 60_000, stallSeconds: 30 },
  };
}
