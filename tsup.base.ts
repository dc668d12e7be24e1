import { type Options, defineConfig } from 'tsup';

// The two builds of this repository, written once; each package's tsup.config.ts picks one.

/** A package: ESM and its types, from src/index.ts. */
export function packageBuild(overrides: Options = {}) {
  return defineConfig({
    entry: ['src/index.ts'],
    format: 'esm',
    target: 'node20',
    dts: true,
    clean: true,
    sourcemap: true,
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
    // Bundle our own packages from source; declared third-party dependencies (better-sqlite3's
    // native addon among them) stay external.
    noExternal: [/^@conv\//],
    esbuildOptions(options) {
      options.conditions = ['@conv/source'];
    },
    ...overrides,
  });
}
