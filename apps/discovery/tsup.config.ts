import { createRequire } from 'node:module';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'tsup';

const here = dirname(fileURLToPath(import.meta.url));
const outDir = resolve(here, 'dist');
// better-sqlite3 is @conv/registry's dependency, not ours, so it cannot be resolved from this
// app's folder (pnpm links only declared dependencies), and it cannot be bundled (native addon).
// Keep it external and point the import at the copy the registry package resolves.
const sqlite = createRequire(resolve(here, '../../packages/registry/package.json')).resolve('better-sqlite3');
const sqliteFromDist = `./${relative(outDir, sqlite).split('\\').join('/')}`;

export default defineConfig({
  entry: ['src/main.ts'],
  outDir,
  format: 'esm',
  target: 'node20',
  // No clean: a build overwrites main.js in place, so a test running the app never sees it missing.
  clean: false,
  sourcemap: true,
  // Bundle our own packages from source: an app runs from its dist alone, with no package build.
  noExternal: [/^@conv\//],
  esbuildOptions(options) {
    options.conditions = ['@conv/source'];
  },
  esbuildPlugins: [
    {
      name: 'registry-native-dependency',
      setup(build) {
        build.onResolve({ filter: /^better-sqlite3$/ }, () => ({ path: sqliteFromDist, external: true }));
      },
    },
  ],
});
