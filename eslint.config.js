import js from '@eslint/js';
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
// The servers' operational shell (logs, operator HTTP port, metrics) is for apps only: the domain stays pure.
const noShell = banned(['@conv/observability'], 'Domain packages never log, serve HTTP or count metrics; apps wire @conv/observability in.');

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '**/coverage/**', 'data/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['vitest.config.ts', 'vitest.workspace.ts'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
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
    files: ['packages/protocol/src/**', 'packages/conversion/src/**'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [...bareBuiltins, ...noNetwork, ...noFiles, ...appNames, ...noShell],
        patterns: [...noDeepImports, ...noApps, { group: ['@conv/*'], message: 'This package depends on nothing of ours.' }],
      }],
    },
  },
  {
    files: ['packages/registry/src/**'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [...bareBuiltins, ...noNetwork, ...appNames, ...noShell],
        patterns: [...noDeepImports, ...noApps, { group: ['@conv/*'], message: 'This package depends on nothing of ours.' }],
      }],
    },
  },
  {
    // The one package outside apps that opens a listening socket (the operator HTTP port), so
    // node:http and node:net are allowed here; it depends on no package of ours and no app.
    files: ['packages/observability/src/**'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [
          ...bareBuiltins,
          ...banned(['node:dgram', 'node:https', 'node:tls'], 'The operator port is plain HTTP on loopback.'),
          ...banned(['node:fs', 'node:fs/promises', 'better-sqlite3', 'node:child_process'], 'The operational shell keeps no files and starts no processes (logs go to a stream).'),
          ...appNames,
        ],
        patterns: [...noDeepImports, ...noApps, { group: ['@conv/*'], message: 'The operational shell depends on nothing of ours.' }],
      }],
    },
  },
  {
    files: ['**/*.config.ts', 'vitest.workspace.ts', 'eslint.config.js'],
    rules: { 'no-restricted-syntax': 'off' },
  },
  {
    files: ['eslint.config.js'],
    ...tseslint.configs.disableTypeChecked,
  },
);
