import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ModelServer, startModelServer } from '../model-server/model-server.js';
import type { ModelScript } from '../model-server/scripted-model.js';
import { type GitHttpServer, startGitHttpServer } from './git-http-server.js';
import { type GitHubStandIn, startGitHubStandIn } from './github-stand-in.js';
import { createBareRepo, listBranches } from './seed-repo.js';

/** Credentials of the local world: fake, and only ever sent to 127.0.0.1. */
export interface DemoCredentials {
  githubToken: string;
  anthropicKey: string;
}

/** A throwaway repository behind a token-checking git server, a GitHub stand-in and a model. */
export interface LocalWorld {
  root: string;
  git: GitHttpServer;
  github: GitHubStandIn;
  model: ModelServer;
  repoUrl: string;
  bareRepo: string;
  credentials: DemoCredentials;
  close(): Promise<void>;
}

export const DEMO_REPO = 'acme/demo-app';

/**
 * Starts the local world the demo (and the end-to-end tests) run a job against. Every server
 * listens on 127.0.0.1 on a random port.
 */
export async function startLocalWorld(opts: {
  credentials: DemoCredentials;
  files?: Record<string, string>;
  fileCount?: number;
  script?: ModelScript;
  githubPathPrefix?: string;
}): Promise<LocalWorld> {
  const root = await mkdtemp(join(tmpdir(), 'viberator-world-'));
  const projectRoot = join(root, 'git');
  const bareRepo = await createBareRepo(projectRoot, DEMO_REPO, {
    files: opts.files ?? {
      'README.md': '# Demo app\n\nA tiny repository for the Viberator demo.\n',
      'src/index.js': "export const name = 'demo-app';\n",
    },
    fileCount: opts.fileCount,
  });
  const git = await startGitHttpServer({ projectRoot, token: opts.credentials.githubToken });
  const github = await startGitHubStandIn({
    token: opts.credentials.githubToken,
    pathPrefix: opts.githubPathPrefix,
    branchExists: async (owner, repo, branch) =>
      `${owner}/${repo}` === DEMO_REPO && (await listBranches(bareRepo)).includes(branch),
  });
  const model = await startModelServer({
    apiKey: opts.credentials.anthropicKey,
    script: opts.script,
  });
  return {
    root,
    git,
    github,
    model,
    repoUrl: git.repoUrl(DEMO_REPO),
    bareRepo,
    credentials: opts.credentials,
    async close() {
      await Promise.allSettled([git.close(), github.close(), model.close()]);
      await rm(root, { recursive: true, force: true });
    },
  };
}
