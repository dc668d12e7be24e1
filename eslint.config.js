import js from '@eslint/js';
import path from 'node:path';
import tseslint from 'typescript-eslint';

const nodeBuiltins = [
  'assert', 'buffer', 'child_process', 'crypto', 'dns', 'events', 'fs', 'fs/promises', 'http',
  'net', 'os', 'path', 'process', 'readline', 'stream', 'timers', 'timers/promises', 'url', 'util',
  'worker_threads', 'zlib',
];
const bareBuiltins = nodeBuiltins.map((name) => ({
  name,
  message: `Import built-in modules with the node: prefix ('node:${name}').`,
}));

// Dependencies point one way (apps -> packages); the pure packages never do I/O.
const banned = (names, why) => names.map((name) => ({ name, message: why }));
const noNetwork = banned(['node:net', 'node:dgram', 'node:http', 'node:https', 'node:tls'],
  'Only apps open sockets.');
const noFiles = banned(['node:fs', 'node:fs/promises', 'better-sqlite3', 'node:child_process'],
  'This package is pure: no files, no processes.');
const noApps = [{ group: ['**/apps/**'], message: 'Packages never import apps.' }];
const appNames = banned(['discovery', 'proxy', 'converter'], 'Packages never import apps.');
const noDeepImports = [{ group: ['@conv/*/*'], message: 'Import a package through its public door (src/index.ts).' }];
// The servers' shared edge (sockets, processes, logs, operator port, metrics) is for apps only: the domain stays pure.
const noShell = banned(['@conv/server'], 'Domain packages never open sockets, log or count metrics; apps wire @conv/server in.');

// A package is used through its name, never by a relative path into its folder: a relative
// import may not leave the package (packages/<name> or apps/<name>) it is written in.
const packageRoot = (file) => {
  // Only code in a package's folders (src, test, bench); its tool configs share the root's bases.
  const parts = path.relative(import.meta.dirname, file).split(path.sep);
  return (parts[0] === 'packages' || parts[0] === 'apps') && parts.length > 3 ? path.join(import.meta.dirname, parts[0], parts[1]) : undefined;
};
const stayInPackage = {
  meta: { type: 'problem', messages: { leaves: 'Relative import {{source}} leaves its package; import the other package by name (@conv/...).' } },
  create(context) {
    const root = packageRoot(context.filename);
    const check = (node) => {
      const source = node.source?.value;
      if (root === undefined || typeof source !== 'string' || !source.startsWith('.')) return;
      const target = path.resolve(path.dirname(context.filename), source);
      if (target !== root && !target.startsWith(root + path.sep)) context.report({ node: node.source, messageId: 'leaves', data: { source } });
    };
    return { ImportDeclaration: check, ExportNamedDeclaration: check, ExportAllDeclaration: check, ImportExpression: check };
  },
};

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '**/coverage/**', 'data/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['vitest.config.ts', 'vitest.workspace.ts', 'vitest.base.ts', 'tsup.base.ts'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    plugins: { conv: { rules: { 'stay-in-package': stayInPackage } } },
    rules: {
      'conv/stay-in-package': 'error',
      // A file a newcomer reads in one sitting: split it by what it does before it passes 400 lines.
      'max-lines': ['error', { max: 400 }],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-syntax': ['error', {
        selector: 'ExportDefaultDeclaration',
        message: 'Export by name; default exports are for tool config files only.',
      }],
      'no-restricted-imports': ['error', { paths: bareBuiltins, patterns: noDeepImports }],
    },
  },
  {
    files: ['packages/protocol/src/**'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [...bareBuiltins, ...noNetwork, ...noFiles, ...appNames, ...noShell],
        patterns: [...noDeepImports, ...noApps, { group: ['@conv/*'], message: 'This package depends on nothing of ours.' }],
      }],
    },
  },
  {
    // The catalog quotes input the way every failure does, with the protocol's `quote`.
    files: ['packages/conversion/src/**'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [...bareBuiltins, ...noNetwork, ...noFiles, ...appNames, ...noShell],
        patterns: [...noDeepImports, ...noApps, { group: ['@conv/*', '!@conv/protocol'], message: 'The conversion package depends on @conv/protocol alone.' }],
      }],
    },
  },
  {
    // The registry speaks the protocol's words (Endpoint, UnitPair, Health, host spelling), so
    // it may import @conv/protocol (bundled into its published dist) and nothing else of ours.
    files: ['packages/registry/src/**'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [...bareBuiltins, ...noNetwork, ...appNames, ...noShell],
        patterns: [...noDeepImports, ...noApps, { group: ['@conv/*', '!@conv/protocol'], message: 'The registry depends on @conv/protocol alone.' }],
      }],
    },
  },
  {
    // @conv/server: the sanctioned place for the servers' network plumbing (the line server, the
    // discovery client, the operator HTTP port) and process entry. It may open sockets; it keeps
    // no files and starts no processes, depends on @conv/protocol alone, and never on an app.
    files: ['packages/server/src/**'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [
          ...bareBuiltins,
          ...banned(['node:dgram', 'node:https', 'node:tls'], 'The servers speak plain TCP and plain HTTP on loopback.'),
          ...banned(['node:fs', 'node:fs/promises', 'better-sqlite3', 'node:child_process'], 'The server edge keeps no files and starts no processes (logs go to a stream).'),
          ...appNames,
        ],
        patterns: [...noDeepImports, ...noApps, { group: ['@conv/registry', '@conv/conversion', '@conv/testkit'], message: 'The server edge depends on @conv/protocol alone.' }],
      }],
    },
  },
  {
    files: ['**/*.config.ts', 'vitest.workspace.ts', 'vitest.base.ts', 'tsup.base.ts', 'eslint.config.js'],
    rules: { 'no-restricted-syntax': 'off' },
  },
  {
    files: ['eslint.config.js'],
    ...tseslint.configs.disableTypeChecked,
  },
);
