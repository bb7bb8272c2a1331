import { defineConfig } from 'tsup';

export default defineConfig({
  entry: {
    cli: 'src/entrypoints/cli.ts',
    index: 'src/index.ts',
    demo: 'src/demo/run-demo.ts',
    // The local world (git server, GitHub stand-in, model server) for benchmarks and tests.
    'local-world': 'src/demo/demo-fixture.ts',
  },
  format: ['esm'],
  target: 'node20',
  platform: 'node',
  splitting: true,
  sourcemap: true,
  clean: true,
  dts: false,
  // Bundled dependencies start faster than thousands of resolved files (about 100 ms less per
  // job). The AWS SDK stays external: it is large, loaded lazily, and the Lambda runtime has it.
  noExternal: [/^(?!@aws-sdk\/|@anthropic-ai\/claude-code).*/],
  external: [/^@aws-sdk\//, '@anthropic-ai/claude-code'],
  banner: {
    // Bundled CommonJS dependencies call require(); ESM output needs one made for them.
    js: "import { createRequire as __viberatorCreateRequire } from 'node:module'; const require = __viberatorCreateRequire(import.meta.url);",
  },
});
