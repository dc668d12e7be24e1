import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts'],
  format: 'esm',
  target: 'node20',
  dts: { resolve: [/^@conv\//] },
  clean: true,
  sourcemap: true,
  // A packed package installs on its own: our own packages are not on the npm registry, so
  // any it imports is bundled into dist, code and types, and kept in devDependencies only;
  // what the bundled code imports in turn (zod, say) must then be in this package's dependencies.
  // One ESM build; Node 20.19+ serves require() from it too (one module instance, no dual-package hazard).
  noExternal: [/^@conv\//],
  esbuildOptions(options) {
    options.conditions = ['@conv/source'];
  },
});
