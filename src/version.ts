import { createRequire } from 'node:module';

/** The package version, for User-Agent headers and `--version`. */
export const VERSION: string = (
  createRequire(import.meta.url)('../package.json') as { version: string }
).version;
