import {
  cutTo,
  defuseCommentOpeners,
  fencedBlock,
  inlineCode,
  oneLine,
  quotePath,
  showHidden,
} from '../inert-text.js';
import type { Clanker, Payload } from '../payload/schema.js';

/** Code points of the agent's summary shown; the rest is cut with a count. */
export const SUMMARY_LIMIT = 4000;
/** Files listed; the rest is counted. */
export const LISTED_FILES = 50;
/** Code points of one listed (escaped) file name. */
export const FILE_NAME_LIMIT = 300;

/**
 * `<ticket key>: <ticket title>` (claws: claw key and name), also the commit subject. The
 * payload's words, not the agent's; whitespace and hidden characters collapse to one space.
 */
export function changeTitle(payload: Payload, clanker: Clanker): string {
  const key = payload.ticket?.key ?? payload.claw?.key ?? payload.jobId;
  const title =
    payload.ticket?.title || payload.claw?.name || `changes by ${clanker.name ?? clanker.id}`;
  return oneLine(`${key}: ${title}`);
}

/**
 * The PR body. What the agent chose — its summary and the names of the files it changed — is
 * shown inert (runtime.md, "Only the worker speaks for the job"): each in a fenced code block
 * no line of it can close, hidden characters escaped, `<!--` broken apart, cut to length with
 * a count. Everything outside those blocks is the worker's, and the job marker
 * `<!-- viberator-job: <jobId> -->` is the body's only comment.
 */
export function pullRequestBody(opts: {
  payload: Payload;
  clanker: Clanker;
  summary: string | undefined;
  changedFiles: string[];
}): string {
  const { payload, clanker, changedFiles } = opts;
  return [
    ...summarySection(opts.summary),
    '',
    `### Files changed (${changedFiles.length})`,
    ...fileSection(changedFiles),
    '',
    `Job ${inlineCode(payload.jobId)} · agent ${inlineCode(clanker.agent)} · clanker ${inlineCode(clanker.name ?? clanker.id)} (${inlineCode(clanker.id)})`,
    '',
    `<!-- viberator-job: ${payload.jobId} -->`,
    '',
  ].join('\n');
}

function summarySection(summary: string | undefined): string[] {
  const text = (summary ?? '').trim();
  if (!text) return ['_The agent gave no summary._'];
  const { text: shown, cut } = cutTo(text, SUMMARY_LIMIT);
  const lines = defuseCommentOpeners(showHidden(shown)).split('\n');
  return [
    '### Summary by the agent',
    fencedBlock(lines),
    ...(cut > 0 ? [`_… the summary goes on for ${cut} more characters._`] : []),
  ];
}

function fileSection(changedFiles: string[]): string[] {
  if (changedFiles.length === 0) return ['_None._'];
  const lines = changedFiles.slice(0, LISTED_FILES).map((file) => {
    const { text, cut } = cutTo(quotePath(file), FILE_NAME_LIMIT);
    return defuseCommentOpeners(cut > 0 ? `${text}…` : text);
  });
  const more = changedFiles.length - LISTED_FILES;
  return [fencedBlock(lines), ...(more > 0 ? [`… and ${more} more`] : [])];
}
