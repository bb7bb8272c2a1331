import { defineConfig, type Options } from 'tsup';

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
    entry: { cli: 'src/entrypoints/cli.ts', index: 'src/index.ts' },
    outDir: 'dist',
    clean: true,
  },
  // Dev only, never published: the offline demo and the local world (git server, GitHub
  // stand-in, scripted model server) that the demo and the benchmarks run jobs against.
  {
    ...shared,
    entry: {
      demo: 'demo/run-demo.ts',
      'local-world': 'test/support/local-world/local-world.ts',
    },
    outDir: 'build/dev',
    clean: true,
  },
]);
