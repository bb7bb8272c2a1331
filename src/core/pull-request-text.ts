import type { Clanker, Payload } from '../payload/schema.js';

const SUMMARY_LIMIT = 4000;
const LISTED_FILES = 50;

/** `<ticket key>: <ticket title>` (claws: claw key and name), also the commit subject. */
export function changeTitle(payload: Payload, clanker: Clanker): string {
  const key = payload.ticket?.key ?? payload.claw?.key ?? payload.jobId;
  const title =
    payload.ticket?.title || payload.claw?.name || `changes by ${clanker.name ?? clanker.id}`;
  return `${key}: ${title}`.replace(/\s+/g, ' ').trim();
}

/** The PR body: the agent's summary, the files it changed, and the job marker. */
export function pullRequestBody(opts: {
  payload: Payload;
  clanker: Clanker;
  summary: string | undefined;
  changedFiles: string[];
}): string {
  const { payload, clanker, changedFiles } = opts;
  const summary = (opts.summary ?? '').trim();
  const shortened =
    summary.length > SUMMARY_LIMIT ? `${summary.slice(0, SUMMARY_LIMIT)}…` : summary;
  const files = changedFiles.slice(0, LISTED_FILES).map((file) => `- \`${file}\``);
  if (changedFiles.length > LISTED_FILES)
    files.push(`- … and ${changedFiles.length - LISTED_FILES} more`);
  return [
    shortened || '_The agent gave no summary._',
    '',
    `### Files changed (${changedFiles.length})`,
    ...files,
    '',
    `Job \`${payload.jobId}\` · agent \`${clanker.agent}\` · clanker ${clanker.name ?? clanker.id} (\`${clanker.id}\`)`,
    '',
    `<!-- viberator-job: ${payload.jobId} -->`,
    '',
  ].join('\n');
}
