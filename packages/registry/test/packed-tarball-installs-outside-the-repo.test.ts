import { execFile } from 'node:child_process';
import { builtinModules } from 'node:module';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * What a stranger does: pack @conv/registry from a checkout where nothing was built, install
 * the tarball with npm in a project outside the repository, and use it both ways. Packing
 * builds (prepack); the tarball must carry everything of ours it needs, and depend only on
 * packages the npm registry has.
 *
 * better-sqlite3 is the one native dependency: installed from the npm registry (or npm's
 * cache) with its install script skipped, and given the addon this checkout already compiled
 * for the same version, so the test costs seconds, not a minute's compile, and needs no
 * network beyond the npm registry.
 */
const run = promisify(execFile);
const packageDir = fileURLToPath(new URL('..', import.meta.url));
const repoRoot = join(packageDir, '..', '..');
const readme = readFileSync(join(packageDir, 'README.md'), 'utf8');
const section = readme.slice(readme.indexOf('## Use it from another Node program'), readme.indexOf('## API'));
const examples = [...section.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1] ?? '');
const esmExample = examples.find((code) => code.startsWith('// example.mjs'));
const cjsExample = examples.find((code) => code.startsWith('// example.cjs'));

const scratch = mkdtempSync(join(tmpdir(), 'conv-registry-pack-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A copy of the workspace with only this package, without `dist`: what a fresh clone has. */
function cleanCopy(): string {
  const workspace = join(scratch, 'workspace');
  const copy = join(workspace, 'packages', 'registry');
  mkdirSync(copy, { recursive: true });
  for (const file of ['package.json', 'pnpm-workspace.yaml', 'tsconfig.base.json', 'tsup.base.ts']) copyFileSync(join(repoRoot, file), join(workspace, file));
  // Installed tools (tsup, typescript) and this package's dependencies, as `pnpm install` left them.
  symlinkSync(join(repoRoot, 'node_modules'), join(workspace, 'node_modules'));
  symlinkSync(join(packageDir, 'node_modules'), join(copy, 'node_modules'));
  cpSync(packageDir, copy, { recursive: true, filter: (source) => !/^(node_modules|dist)(\/|$)/.test(relative(packageDir, source)) });
  return copy;
}

/** Bare module names a built file imports (`from 'x'`, `import('x')`, `require('x')`), package names only. */
function importedPackages(code: string): string[] {
  const specifiers = [...code.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|^import\s+)["']([^"'./][^"']*)["']/gm)].map((m) => m[1] ?? '');
  const names = specifiers
    .filter((s) => !s.startsWith('node:') && !builtinModules.includes(s))
    .map((s) => (s.startsWith('@') ? s.split('/').slice(0, 2).join('/') : (s.split('/')[0] ?? s)));
  return [...new Set(names)].sort();
}

describe('the packed @conv/registry, installed with npm outside the repository', () => {
  it(
    'packs from a checkout with no build, installs on its own, and works by import and by require',
    async () => {
      expect(esmExample).toBeDefined();
      expect(cjsExample).toBeDefined();

      const copy = cleanCopy();
      expect(existsSync(join(copy, 'dist'))).toBe(false);
      const packed = join(scratch, 'packed');
      await run('npx', ['--yes', 'pnpm@10.34.8', 'pack', '--pack-destination', packed], { cwd: copy });
      const [tarball] = readdirSync(packed);
      expect(tarball).toBe('conv-registry-0.1.0.tgz');
      const { stdout: listing } = await run('tar', ['-tzf', join(packed, tarball ?? '')]);
      expect(listing.split('\n').filter(Boolean).sort()).toEqual(
        ['package/README.md', 'package/dist/index.d.ts', 'package/dist/index.js', 'package/dist/index.js.map', 'package/package.json'],
      );

      const project = join(scratch, 'project');
      expect(relative(repoRoot, project).startsWith('..')).toBe(true);
      mkdirSync(project);
      writeFileSync(join(project, 'package.json'), `${JSON.stringify({ name: 'stranger', version: '1.0.0', private: true })}\n`);
      const addonDir = join(packageDir, 'node_modules', 'better-sqlite3');
      const addonVersion = (JSON.parse(readFileSync(join(addonDir, 'package.json'), 'utf8')) as { version: string }).version;
      await run(
        'npm',
        ['install', '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', join(packed, tarball ?? ''), `better-sqlite3@${addonVersion}`],
        { cwd: project },
      );
      const release = join(project, 'node_modules', 'better-sqlite3', 'build', 'Release');
      mkdirSync(release, { recursive: true });
      copyFileSync(join(addonDir, 'build', 'Release', 'better_sqlite3.node'), join(release, 'better_sqlite3.node'));

      // The installed manifest points at files that exist, and depends on nothing of ours.
      const installed = join(project, 'node_modules', '@conv', 'registry');
      const manifest = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as {
        exports: Record<string, Record<string, string> | string>;
        dependencies?: Record<string, string>;
      };
      expect(manifest.exports['.']).toEqual({ types: './dist/index.d.ts', import: './dist/index.js', require: './dist/index.js' });
      const dependencies = Object.keys(manifest.dependencies ?? {}).sort();
      expect(dependencies.filter((name) => name.startsWith('@conv/'))).toEqual([]);
      // Whatever the build bundled or left out, every package its code and types import is declared.
      for (const file of ['index.js', 'index.d.ts']) {
        const undeclared = importedPackages(readFileSync(join(installed, 'dist', file), 'utf8')).filter((name) => !dependencies.includes(name));
        expect({ file, undeclared }).toEqual({ file, undeclared: [] });
      }

      // The README's two examples, as a stranger would run them.
      writeFileSync(join(project, 'example.mjs'), esmExample ?? '');
      writeFileSync(join(project, 'example.cjs'), cjsExample ?? '');
      const esm = await run(process.execPath, ['example.mjs'], { cwd: project });
      expect(esm.stdout).toContain("{ host: '127.0.0.1', port: 4002 }");
      expect(esm.stdout).toContain("ENTRY_EXISTS [ 'ft', 'in' ]");
      expect(esm.stdout.trim().split('\n').at(-1)).toBe('CORRUPT');
      const cjs = await run(process.execPath, ['example.cjs'], { cwd: project });
      expect(cjs).toEqual({ stdout: "{ host: '127.0.0.1', port: 4003 }\n", stderr: '' });

      // require() and import give the one module instance, so instanceof holds across both.
      const same = await run(
        process.execPath,
        ['-e', "const viaRequire = require('@conv/registry'); import('@conv/registry').then((m) => console.log(m.RegistryError === viaRequire.RegistryError && m.Registry === viaRequire.Registry))"],
        { cwd: project },
      );
      expect(same.stdout).toBe('true\n');
    },
    240_000,
  );
});
