import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/main.ts'],
  format: 'esm',
  target: 'node20',
  clean: true,
  sourcemap: true,
  // Bundle our own packages from source: an app runs from its dist alone, with no package build.
  noExternal: [/^@conv\//],
  esbuildOptions(options) {
    options.conditions = ['@conv/source'];
  },
});
