import { type Options, defineConfig } from 'tsup';

// The two builds of this repository, written once; each package's tsup.config.ts picks one.

/**
 * A package: one ES module build and its types, from src/index.ts. A packed package installs on
 * its own: our own packages are not on the npm registry, so any it imports is bundled into dist,
 * code and types, and kept in devDependencies only; what the bundled code imports in turn (zod,
 * say) must then be in the package's own dependencies. Node 20.19+ serves require() from the same
 * build (one module instance, no dual-package hazard).
 */
export function packageBuild(overrides: Options = {}) {
  return defineConfig({
    entry: ['src/index.ts'],
    format: 'esm',
    target: 'node20',
    dts: { resolve: [/^@conv\//] },
    clean: true,
    sourcemap: true,
    noExternal: [/^@conv\//],
    esbuildOptions(options) {
      options.conditions = ['@conv/source'];
    },
    ...overrides,
  });
}

/** An app: one bundle from src/main.ts that runs from its dist alone. */
export function appBuild(overrides: Options = {}) {
  return defineConfig({
    entry: ['src/main.ts'],
    format: 'esm',
    target: 'node20',
    // No clean: a build overwrites main.js in place, so a test running the app never sees it missing.
    clean: false,
    sourcemap: true,
    // Bundle our own packages from source, and the pure-JS dependencies too: one file parses
    // much faster than Node's ESM loader resolves and reads hundreds (a converter starts on about
    // half the CPU), and `conv up` starts two dozen servers. Native addons (better-sqlite3) and
    // etcd3 (gRPC, loaded only with --store) stay external. `require` is for the CommonJS ones.
    noExternal: [/^@conv\//, 'zod', /^yargs/, /^pino/, 'prom-client'],
    banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
    esbuildOptions(options) {
      options.conditions = ['@conv/source'];
      // Code loaded on demand (discovery's --store) is a chunk with a fixed name, so a build
      // overwrites the same files instead of adding new ones.
      options.chunkNames = '[name]';
    },
    ...overrides,
  });
}
