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
});
