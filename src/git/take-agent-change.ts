import type { AgentIdentity } from '../isolation/agent-identity.js';
import { agentHead } from './agent-commits.js';
import type { ChangeLimits } from './change-limits.js';
import { type CommitIdentity, commitMessage, commitTree } from './commit.js';
import type { GitSetup } from './git-runner.js';
import { type ChangeEntry, importStagedChange } from './import-change.js';
import { display, stageAgentChange } from './stage-change.js';

/** The worker's commit of what the agent left, or why nothing was committed. */
export interface TakenChange {
  /** Changed paths for people (UTF-8). Empty: the tree is the base's, nothing committed. */
  changedFiles: string[];
  /** The change path by path, for the push's secret scan. */
  entries: ChangeEntry[];
  /** The worker's commit (the base commit when nothing changed). */
  headSha: string;
  /** Its message. */
  message: string;
  /** FIFOs, sockets and devices removed; nested repositories left out (for the log). */
  special: string[];
  nested: string[];
}

/**
 * The committing step's work, once every agent process is gone: stage what the agent left
 * as the agent user, take the staged objects over through the worker's checks, and commit
 * the tree on the base commit as the worker — one commit, with the agent's own commit
 * messages (if it made commits) kept in its body and the worker's trailers last. The
 * agent's commits themselves are never pushed: their author, committer and trailers would
 * be the agent's to choose.
 */
export async function takeAgentChange(opts: {
  setup: GitSetup;
  identity: AgentIdentity;
  workspaceRoot: string;
  baseSha: string;
  subject: string;
  commitIdentity: CommitIdentity;
  /** The worker's own files in the checkout: never committed. */
  exclude: string[];
  limits: ChangeLimits;
}): Promise<TakenChange> {
  const staged = await stageAgentChange({
    setup: opts.setup,
    identity: opts.identity,
    workspaceRoot: opts.workspaceRoot,
    baseSha: opts.baseSha,
    agentHead: await agentHead(opts.setup.workTree),
    exclude: opts.exclude,
    limits: opts.limits,
  });
  const entries = await importStagedChange(opts.setup, staged, opts.baseSha, opts.limits);
  const taken = {
    changedFiles: entries.map((entry) => display(entry.path)),
    entries,
    headSha: opts.baseSha,
    message: '',
    special: staged.special,
    nested: staged.nested,
  };
  if (entries.length === 0) return taken;
  const message = commitMessage(opts.subject, staged.agentMessages, opts.commitIdentity);
  const headSha = await commitTree(opts.setup, opts.baseSha, staged.tree, message);
  return { ...taken, headSha, message };
}
