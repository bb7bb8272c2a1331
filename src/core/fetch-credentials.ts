import type { AgentAdapter } from '../agents/adapter.js';
import { WorkerError } from '../errors.js';
import type { Clanker, Payload } from '../payload/schema.js';
import { phaseOf } from '../payload/templates.js';
import type { ValidatedPayload } from '../payload/validate.js';
import type { ScmProvider } from '../scm/provider.js';
import { SCM_PROVIDERS } from '../scm/registry.js';
import type { Redactor } from '../secrets/redactor.js';
import { type ResolvedSecret, resolveSecrets, type SecretProvider } from '../secrets/resolve.js';

/**
 * The fetching_credentials step: every secret of the payload, then the checks that the agent
 * has its key and that a job that pushes to a remote has GITHUB_TOKEN — before anything is
 * cloned or started.
 */
export async function fetchCredentials(
  payload: Payload,
  validated: ValidatedPayload,
  adapter: AgentAdapter,
  clanker: Clanker,
  scm: ScmProvider,
  providers: SecretProvider[],
  redactor: Redactor,
  log: (message: string) => void = () => {},
): Promise<{ secrets: Map<string, ResolvedSecret>; modelKey: ResolvedSecret }> {
  const secrets = await resolveSecrets(
    payload.secrets,
    providers,
    redactor,
    Object.values(SCM_PROVIDERS).map((scm) => scm.tokenSecret),
    log,
  );
  const anyOf = adapter.modelKeys(clanker);
  const modelKey = anyOf.map((name) => secrets.get(name)).find((secret) => secret !== undefined);
  if (!modelKey) {
    const provider = clanker.model?.includes('/') ? ` for model ${clanker.model}` : '';
    throw new WorkerError(
      'missing_secret',
      `${adapter.displayName} needs ${anyOf.join(' or ')}${provider}: add it to the payload's secrets`,
    );
  }
  const pushes = phaseOf(payload.template) === 'execution' || phaseOf(payload.template) === 'claw';
  if (pushes && validated.repository.kind === 'remote' && !secrets.has(scm.tokenSecret)) {
    throw new WorkerError(
      'missing_secret',
      `secret ${scm.tokenSecret} is needed to push the branch and open the ${scm.requestNoun} on ${scm.displayName}: add it to the payload's secrets (${scm.tokenScopes})`,
    );
  }
  return { secrets, modelKey };
}
