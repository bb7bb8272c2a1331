import { join } from 'node:path';
import type { AgentContext } from '../adapter.js';
import { opencodeProvider } from './provider.js';

/** The file `OPENCODE_CONFIG` names, in the agent's config dir. */
export function configFile(ctx: Pick<AgentContext, 'configDir'>): string {
  return join(ctx.configDir, 'opencode.json');
}

/** The clanker's instructions (agentsMd), in the agent's config dir. */
export function instructionsFile(ctx: Pick<AgentContext, 'configDir'>): string {
  return join(ctx.configDir, 'AGENTS.md');
}

/** The clanker's skills, one folder each, in the agent's config dir. */
export function skillsDir(ctx: Pick<AgentContext, 'configDir'>): string {
  return join(ctx.configDir, 'skills');
}

/**
 * The run's `XDG_CONFIG_HOME`: a folder of the agent's config dir (which the worker hands over
 * to the agent user) rather than one under HOME, so the files prepared for OpenCode's global
 * config dir (`<XDG_CONFIG_HOME>/opencode`) belong to the agent like the rest of its config.
 */
export function xdgConfigHome(ctx: Pick<AgentContext, 'configDir'>): string {
  return join(ctx.configDir, 'xdg-config');
}

/**
 * Files for OpenCode's global config dir. At every start OpenCode installs its plugin SDK
 * into each config dir from the package registry (a background download of about 100 MB),
 * unless the dir's package.json and package-lock.json already list it and `node_modules`
 * exists. No plugin is configured (and `OPENCODE_PURE` skips external ones), so empty stubs
 * that satisfy the check keep the run offline.
 */
export function globalConfigStubs(): Array<{ path: string; content: string }> {
  const dependencies = { '@opencode-ai/plugin': '*' };
  return [
    { path: 'package.json', content: `${JSON.stringify({ private: true, dependencies })}\n` },
    {
      path: 'package-lock.json',
      content: `${JSON.stringify({ lockfileVersion: 3, packages: { '': { dependencies } } })}\n`,
    },
    { path: 'node_modules/.keep', content: '' },
  ];
}

/** Longest timer a JavaScript runtime keeps (about 24.8 days); a longer one fires at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** The provider's request timeout: the run's time limit, when it is one a timer can hold. */
function requestTimeout(timeLimitMs: number): { timeout?: number } {
  if (!Number.isFinite(timeLimitMs) || timeLimitMs <= 0) return {};
  return { timeout: Math.min(Math.ceil(timeLimitMs), MAX_TIMER_MS) };
}

/**
 * OpenCode's configuration for one run (`opencode.json`, named by `OPENCODE_CONFIG`).
 *
 * - The model seam: the clanker's provider (see {@link opencodeProvider}) is the only one
 *   enabled; its key is read from the variable the payload secret came as (`{env:NAME}`, so
 *   the file never holds the key), its endpoint is the job's model gateway. The small
 *   model (titles, summaries) is the same model: the clanker names one.
 * - Permissions: execution and claw may edit and run commands (and use the job's TMPDIR);
 *   research and planning are read-only: `edit` (write, edit, apply_patch) and `bash` are
 *   denied, which removes those tools from what the model is offered, for subagents too.
 *   Anything that would ask (paths outside the checkout, `.env` files) is refused by
 *   `opencode run`; the loop goes on so the model can do without.
 * - Instructions: the clanker's file from the config dir and the repository's own
 *   AGENTS.md. Project config is disabled (OPENCODE_DISABLE_PROJECT_CONFIG) so that an
 *   opencode.json in the repository cannot change the provider or the permissions; that also
 *   stops OpenCode finding AGENTS.md by itself, hence the explicit entry.
 * - Offline and lean: no autoupdate, sharing, snapshots (a copy of the checkout in
 *   OpenCode's own git store after every step), formatters or language servers.
 */
export function opencodeConfig(ctx: AgentContext): Record<string, unknown> {
  const provider = opencodeProvider({ model: ctx.model.model, baseUrl: ctx.clanker.baseUrl });
  const model = provider.model ? `${provider.id}/${provider.model}` : undefined;
  const readOnly = ctx.phase === 'research' || ctx.phase === 'planning';
  const providerConfig: Record<string, unknown> = {
    ...(provider.custom ? { npm: '@ai-sdk/openai-compatible', name: 'Viberator endpoint' } : {}),
    options: {
      apiKey: `{env:${ctx.model.keyName}}`,
      // The job's gateway, in front of clanker.baseUrl or the provider's own endpoint.
      baseURL: ctx.model.baseUrl,
      // No request outlives the run.
      ...requestTimeout(ctx.timeLimitMs),
    },
    // Declared so that a model missing from the bundled catalogue (the catalogue is not
    // fetched) still resolves; a catalogued model keeps its limits and prices.
    ...(provider.model ? { models: { [provider.model]: {} } } : {}),
  };
  return {
    $schema: 'https://opencode.ai/config.json',
    ...(model ? { model, small_model: model } : {}),
    enabled_providers: [provider.id],
    provider: { [provider.id]: providerConfig },
    permission: readOnly
      ? { edit: 'deny', bash: 'deny' }
      : {
          edit: 'allow',
          bash: 'allow',
          external_directory: { [`${ctx.tmpDir}/**`]: 'allow' },
        },
    instructions: [
      ...(ctx.agentsMd ? [instructionsFile(ctx)] : []),
      join(ctx.checkoutDir, 'AGENTS.md'),
    ],
    ...(ctx.skills.length > 0 ? { skills: { paths: [skillsDir(ctx)] } } : {}),
    autoupdate: false,
    share: 'disabled',
    snapshot: false,
    formatter: false,
    lsp: false,
    experimental: { continue_loop_on_deny: true },
  };
}
