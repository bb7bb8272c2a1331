/** An execution payload for the local world; `overrides` replace top-level keys. */
export function executionPayload(opts: {
  jobId: string;
  repoUrl: string;
  modelUrl: string;
  prompt: string;
  overrides?: Record<string, unknown>;
}): Record<string, unknown> {
  return {
    version: 1,
    jobId: opts.jobId,
    template: 'ticket_developing',
    prompt: opts.prompt,
    project: {
      id: 'proj_test',
      branchNameTemplate: 'viberator/{{ ticket }}',
      workerSettings: { maxExecutionTime: 120 },
    },
    ticket: { id: 't_42', key: 'ENG-42', title: 'Fix login redirect' },
    repository: { url: opts.repoUrl, baseBranch: 'main' },
    clanker: { id: 'clk_test', name: 'test-bot', agent: 'claude-code', baseUrl: opts.modelUrl },
    secrets: [{ name: 'ANTHROPIC_API_KEY' }, { name: 'GITHUB_TOKEN' }],
    ...opts.overrides,
  };
}

/** A prompt that makes the scripted model write one file and summarise. */
export function writePrompt(path: string, content: string, answer = `Wrote ${path}.`): string {
  return `Please make the change.\n\n[[write ${path}]]\n${content}\n[[end]]\n[[answer]]\n${answer}\n[[end]]\n`;
}
