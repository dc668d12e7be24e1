import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/main.ts'],
  format: 'esm',
  target: 'node20',
  // No clean: a build overwrites main.js in place, so a test running the app never sees it missing.
  clean: false,
  sourcemap: true,
  // Bundle our own packages from source: an app runs from its dist alone, with no package build.
  // Native addons (better-sqlite3) stay external: tsup leaves declared dependencies alone.
  noExternal: [/^@conv\//],
  esbuildOptions(options) {
    options.conditions = ['@conv/source'];
  },
});
