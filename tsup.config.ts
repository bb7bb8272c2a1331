import { readFileSync } from 'node:fs';
import { defineConfig, type Options } from 'tsup';

const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };

const shared: Options = {
  format: ['esm'],
  target: 'node20',
  platform: 'node',
  splitting: true,
  sourcemap: true,
  dts: false,
  // Bundled dependencies start faster than thousands of resolved files (about 100 ms less per
  // job). The AWS SDK stays external: it is large, loaded lazily, and the Lambda runtime has it.
  noExternal: [/^(?!@aws-sdk\/|@anthropic-ai\/claude-code).*/],
  external: [/^@aws-sdk\//, '@anthropic-ai/claude-code'],
  banner: {
    // Bundled CommonJS dependencies call require(); ESM output needs one made for them.
    js: "import { createRequire as __viberatorCreateRequire } from 'node:module'; const require = __viberatorCreateRequire(import.meta.url);",
  },
};

export default defineConfig([
  // The published package: the worker only.
  {
    ...shared,
    entry: {
      cli: 'src/entrypoints/cli.ts',
      index: 'src/index.ts',
      lambda: 'src/entrypoints/lambda.ts',
    },
    outDir: 'dist',
    clean: true,
  },
  // Dev only, never published: the offline demo, the local world (git server, GitHub
  // stand-in, scripted model server) that the demo and the benchmarks run jobs against, and
  // the event pipeline with the platform stand-in for bench/events.mjs.
  {
    ...shared,
    entry: {
      demo: 'demo/run-demo.ts',
      'local-world': 'test/support/local-world/local-world.ts',
      'bench-events': 'bench/support/events-pipeline.ts',
      'bench-agents': 'bench/support/agents-bench.ts',
      gateway: 'src/gateway/index.ts',
    },
    outDir: 'build/dev',
    clean: true,
    // src/version.ts reads ../package.json next to dist/ at run time; from build/dev/ that is
    // build/package.json, which does not exist. The dev bundles get the version inlined.
    esbuildPlugins: [
      {
        name: 'inline-version',
        setup(build) {
          build.onLoad({ filter: /[\\/]src[\\/]version\.ts$/ }, () => ({
            contents: `export const VERSION = ${JSON.stringify(version)};`,
            loader: 'ts',
          }));
        },
      },
    ],
  },
]);
