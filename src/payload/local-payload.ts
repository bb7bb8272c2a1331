import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { adapterFor } from '../agents/registry.js';
import { AGENT_SLUGS, type AgentSlug } from '../agents/types.js';
import { WorkerError } from '../errors.js';
import { TEMPLATES, type Template } from './templates.js';

/** The flags of `viberator run --repo … --agent … --prompt …`. */
export interface LocalRunFlags {
  repo: string;
  agent: string;
  prompt: string;
  template?: string;
  branchTemplate?: string;
  baseBranch?: string;
  model?: string;
  baseUrl?: string;
  jobId?: string;
  ticketKey?: string;
  ticketTitle?: string;
}

function localJobId(): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-');
  return `local-${stamp}-${randomBytes(3).toString('hex')}`;
}

/** `@file` reads the prompt from a file; anything else is the prompt itself. */
async function promptText(value: string): Promise<string> {
  if (!value.startsWith('@')) return value;
  try {
    return await readFile(value.slice(1), 'utf8');
  } catch (error) {
    throw new WorkerError(
      'invalid_payload',
      `invalid payload: --prompt ${value}: ${(error as Error).message}`,
    );
  }
}

/**
 * Builds a local-mode payload (no callback) from flags. The result still goes through the
 * payload schema like any other. Secrets are the agent's keys and GITHUB_TOKEN, read from the
 * environment (`env:` refs) and optional here: the job's own checks say what is missing.
 */
export async function buildLocalPayload(flags: LocalRunFlags): Promise<unknown> {
  const template = (flags.template ?? 'ticket_developing') as Template;
  const prompt = await promptText(flags.prompt);
  const isLocalPath = !/^[a-z][a-z0-9+.-]*:\/\//i.test(flags.repo);
  const agentKeys = AGENT_SLUGS.includes(flags.agent as AgentSlug)
    ? adapterFor(flags.agent as AgentSlug).modelKeys({ model: flags.model })
    : [];
  const title = prompt.split('\n')[0]?.trim().slice(0, 72) ?? '';
  return {
    version: 1,
    jobId: flags.jobId ?? localJobId(),
    template: TEMPLATES.includes(template) ? template : flags.template,
    prompt,
    project: {
      id: 'local',
      ...(flags.branchTemplate ? { branchNameTemplate: flags.branchTemplate } : {}),
    },
    ...(template === 'claw_scheduled_task'
      ? {
          claw: {
            id: 'local',
            key: flags.ticketKey ?? 'local-claw',
            name: flags.ticketTitle ?? title,
          },
        }
      : {
          ticket: {
            id: 'local',
            key: flags.ticketKey ?? 'LOCAL-1',
            title: flags.ticketTitle ?? title,
          },
        }),
    repository: {
      url: isLocalPath && !isAbsolute(flags.repo) ? resolve(flags.repo) : flags.repo,
      ...(flags.baseBranch ? { baseBranch: flags.baseBranch } : {}),
    },
    clanker: {
      id: 'local',
      name: 'local',
      agent: flags.agent,
      ...(flags.model ? { model: flags.model } : {}),
      ...(flags.baseUrl ? { baseUrl: flags.baseUrl } : {}),
    },
    secrets: [...agentKeys, 'GITHUB_TOKEN', 'GITLAB_TOKEN', 'GITEA_TOKEN'].map((name) => ({
      name,
      required: false,
    })),
  };
}
