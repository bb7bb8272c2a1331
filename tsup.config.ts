import { defineConfig } from 'tsup';

export default defineConfig({
  entry: {
    cli: 'src/entrypoints/cli.ts',
    index: 'src/index.ts',
    demo: 'src/demo/run-demo.ts',
  },
  format: ['esm'],
  target: 'node20',
  platform: 'node',
  splitting: true,
  sourcemap: true,
  clean: true,
  dts: false,
});
