import { WorkerError } from '../errors.js';
import type { SecretSpec } from '../payload/schema.js';
import type { Redactor } from './redactor.js';

/** The three ref schemes of payload.md. */
export type SecretScheme = 'env' | 'platform' | 'ssm';

/**
 * Resolves all refs of one scheme in one call (the platform and SSM take batches). A key
 * missing from the answer is a missing secret.
 */
export interface SecretProvider {
  readonly scheme: SecretScheme;
  resolve(keys: string[]): Promise<Map<string, string>>;
}

/** A resolved secret: its spec and its value, in memory only. */
export interface ResolvedSecret {
  name: string;
  value: string;
  exposeToAgent: boolean;
}

export function parseRef(spec: SecretSpec): { scheme: SecretScheme; key: string } {
  const ref = spec.ref ?? `env:${spec.name}`;
  const colon = ref.indexOf(':');
  return { scheme: ref.slice(0, colon) as SecretScheme, key: ref.slice(colon + 1) };
}

/** `env:NAME` from the worker's own environment. */
export function envProvider(env: NodeJS.ProcessEnv): SecretProvider {
  return {
    scheme: 'env',
    async resolve(keys) {
      const found = new Map<string, string>();
      for (const key of keys) {
        const value = env[key];
        if (value) found.set(key, value);
      }
      return found;
    },
  };
}

/**
 * Resolves every secret of the payload, grouping refs by scheme, and registers each value
 * with the redactor the moment it is known. A required secret that is missing fails the job
 * with `missing_secret`, naming every missing secret and its ref, never a value.
 */
export async function resolveSecrets(
  specs: SecretSpec[],
  providers: SecretProvider[],
  redactor: Redactor,
  /** The worker's own credentials (the SCM tokens): the agent gets them only when asked to. */
  workerCredentials: readonly string[] = ['GITHUB_TOKEN'],
  /** Told of each optional secret that was not found (it is skipped). */
  onSkipped: (description: string) => void = () => {},
): Promise<Map<string, ResolvedSecret>> {
  const byScheme = new Map<SecretScheme, SecretSpec[]>();
  for (const spec of specs) {
    const { scheme } = parseRef(spec);
    byScheme.set(scheme, [...(byScheme.get(scheme) ?? []), spec]);
  }
  const resolved = new Map<string, ResolvedSecret>();
  const missing: string[] = [];
  for (const [scheme, group] of byScheme) {
    const provider = providers.find((candidate) => candidate.scheme === scheme);
    if (!provider) {
      for (const spec of group) {
        if (spec.required)
          missing.push(
            `secret ${spec.name} (${scheme}:${parseRef(spec).key}): this worker has no ${scheme}: secret source configured`,
          );
      }
      continue;
    }
    const values = await provider.resolve([...new Set(group.map((spec) => parseRef(spec).key))]);
    for (const [key, value] of values) {
      const names = group.filter((spec) => parseRef(spec).key === key).map((spec) => spec.name);
      redactor.add(value, [...new Set(names)].join(' / ') || key);
    }
    for (const spec of group) {
      const { key } = parseRef(spec);
      const value = values.get(key);
      if (value === undefined) {
        if (spec.required) missing.push(`secret ${spec.name} (${scheme}:${key}) was not found`);
        else onSkipped(`optional secret ${spec.name} (${scheme}:${key}) was not found: skipped`);
        continue;
      }
      const exposeToAgent = spec.exposeToAgent ?? !workerCredentials.includes(spec.name);
      resolved.set(spec.name, { name: spec.name, value, exposeToAgent });
    }
  }
  if (missing.length > 0) throw new WorkerError('missing_secret', missing.join('; '));
  return resolved;
}
