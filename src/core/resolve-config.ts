import type { AgentAdapter } from '../agents/adapter.js';
import { adapterFor } from '../agents/registry.js';
import { WorkerError } from '../errors.js';
import { renderBranchName } from '../git/branch-name.js';
import type { Clanker, Payload } from '../payload/schema.js';

/**
 * The resolving_config step: the clanker (inline, or fetched from the platform by id), its
 * agent's adapter, and the work branch rendered from the project's template.
 */
export async function resolveConfig(
  payload: Payload,
  fetchClanker: ((clankerId: string) => Promise<Clanker>) | undefined,
): Promise<{ clanker: Clanker; adapter: AgentAdapter; branch: string }> {
  let clanker = payload.clanker;
  if (!clanker) {
    const clankerId = payload.clankerId as string;
    if (!fetchClanker) {
      throw new WorkerError(
        'config_unavailable',
        `clanker ${clankerId} cannot be looked up without a platform callback; give the clanker inline in local mode`,
        { retryable: false },
      );
    }
    clanker = await fetchClanker(clankerId);
  }
  const adapter = adapterFor(clanker.agent);
  const rendered = renderBranchName(payload.project.branchNameTemplate, {
    ticket: payload.ticket?.key ?? payload.claw?.key,
    original_ticket: payload.ticket?.originalKey ?? payload.ticket?.key,
    clanker: clanker.name,
  });
  if ('problem' in rendered) {
    throw new WorkerError(
      'invalid_payload',
      `invalid payload: project.branchNameTemplate: ${rendered.problem}`,
      {
        step: 'resolving_config',
      },
    );
  }
  return { clanker, adapter, branch: rendered.branch };
}
