import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/main.ts'],
  format: 'esm',
  target: 'node20',
  // No clean: a build overwrites main.js in place, so a test running the app never sees it missing.
  clean: false,
  sourcemap: true,
  // Bundle our own packages from source: an app runs from its dist alone, with no package build.
  // Bundle the pure-JS dependencies too: one file parses much faster than Node's ESM loader
  // resolves and reads hundreds (a converter starts on about half the CPU), and `conv up`
  // starts two dozen of them. `require` is for the CommonJS ones among them.
  // Native addons (better-sqlite3) and etcd3 (gRPC, loaded only with --store) stay external.
  noExternal: [/^@conv\//, 'zod', /^yargs/, /^pino/, 'prom-client'],
  banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
  esbuildOptions(options) {
    options.conditions = ['@conv/source'];
    // --store's code (and its etcd3 import) is a chunk loaded on demand; fixed names, so a
    // build overwrites the same files instead of adding new ones.
    options.chunkNames = '[name]';
  },
});
