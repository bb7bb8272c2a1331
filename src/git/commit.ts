import { git } from './git-runner.js';
import type { GitSetup } from './repository.js';

export interface CommitIdentity {
  jobId: string;
  agent: string;
  clankerId: string;
}

/** The trailers that mark a worker commit (runtime.md). */
export function commitTrailers(identity: CommitIdentity): string {
  return [
    `Viberator-Job: ${identity.jobId}`,
    `Viberator-Agent: ${identity.agent}`,
    `Viberator-Clanker: ${identity.clankerId}`,
  ].join('\n');
}

const LISTED_COMMITS = 50;
const MESSAGE_LIMIT = 2000;
const MESSAGES_LIMIT = 16 * 1024;
/** A line an agent wrote that looks like one of the worker's trailers. */
const WORKER_TRAILER = /^\s*viberator-[a-z0-9-]*\s*:/i;

/**
 * The worker's commit message: the subject, the agent's own commit messages (when it made
 * commits: they are squashed into this one) as an indented block, then the worker's
 * trailers. The agent's text is made inert: control characters removed, any line
 * that looks like a `Viberator-*` trailer dropped, every line indented (git reads no trailer
 * from an indented line, and only the last paragraph — the worker's — holds trailers), and
 * cut to length. `agentMessages` come newest first, as `git log` gives them.
 */
export function commitMessage(
  subject: string,
  agentMessages: string[],
  identity: CommitIdentity,
): string {
  const kept = agentMessages
    .slice(0, LISTED_COMMITS)
    .reverse()
    .map(inert)
    .filter((message) => message.length > 0);
  let body = '';
  for (const message of kept) {
    const block = message
      .split('\n')
      .map((line) => (line ? `    ${line}` : ''))
      .join('\n');
    if (body.length + block.length > MESSAGES_LIMIT) {
      body += '\n\n    …';
      break;
    }
    body += `${body ? '\n\n' : ''}${block}`;
  }
  const agentPart = body
    ? `\n\nThe agent's own commits, squashed into this one:\n\n${body}${agentMessages.length > LISTED_COMMITS ? `\n\n    … and ${agentMessages.length - LISTED_COMMITS} earlier commits` : ''}`
    : '';
  return `${subject}${agentPart}\n\n${commitTrailers(identity)}\n`;
}

function inert(message: string): string {
  const text = message
    // Control characters (but newlines and tabs) and Unicode line/paragraph separators.
    .replace(/\r\n?/g, '\n')
    // biome-ignore lint/suspicious/noControlCharactersInRegex: removing them is the point
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029]/g, '')
    .split('\n')
    .filter((line) => !WORKER_TRAILER.test(line))
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
  return text.length > MESSAGE_LIMIT ? `${text.slice(0, MESSAGE_LIMIT)}…` : text;
}

/**
 * Commits the staged tree on the base commit as the worker (author and committer are the
 * worker's identity, from its git environment). Objects only: no hook, no work tree, nothing
 * of the agent's is read, no ref moved (the push names the commit). Returns the new commit.
 */
export async function commitTree(
  setup: GitSetup,
  baseSha: string,
  tree: string,
  message: string,
): Promise<string> {
  return (
    await git(setup, ['commit-tree', tree, '-p', baseSha, '-F', '-'], {
      objectsOnly: true,
      input: message,
    })
  ).stdout.trim();
}
