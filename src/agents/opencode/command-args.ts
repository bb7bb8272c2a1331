/**
 * The arguments of every OpenCode run, in one place (the golden fixtures record them). The
 * prompt goes on stdin, never here; model, permissions and instructions are in the
 * configuration file (config.ts), so the arguments are the same for every job.
 */
export function opencodeArgs(): string[] {
  return [
    'run',
    '--format',
    'json',
    // A title of our own: otherwise OpenCode first asks the model for one, a request (and
    // tokens) nobody reads.
    '--title',
    'viberator',
    // Reasoning parts are printed only when asked for.
    '--thinking',
    // Errors the JSON stream only refers to ("check server logs", ref err_…) and each failed
    // model request, which OpenCode retries silently, are logged on stderr.
    '--print-logs',
    '--log-level',
    'ERROR',
  ];
}
