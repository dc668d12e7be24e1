import { readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { pathToFileURL } from 'node:url';
import type { Options } from 'tsup';
import { describe, expect, it } from 'vitest';
import { repoPath } from '../src/index';

type Manifest = {
  name: string;
  scripts: Record<string, string>;
  engines: { node: string };
  exports: Record<string, unknown>;
  publishConfig: { exports: Record<string, unknown> };
  dependencies?: Record<string, string>;
};

const dist = { types: './dist/index.d.ts', import: './dist/index.js', require: './dist/index.js' };

// The full round trip (pack with no build, npm install outside the repo, import and require)
// runs for @conv/registry; every publishable package shares its shape, pinned here once.
describe.each(['protocol', 'conversion', 'registry', 'server'])('the manifest packages/%s is packed with', (folder) => {
  const manifest = JSON.parse(readFileSync(repoPath('packages', folder, 'package.json'), 'utf8')) as Manifest;
  const build = async () => ((await import(pathToFileURL(repoPath('packages', folder, 'tsup.config.ts')).href)) as { default: Options }).default;

  it('builds before packing, and serves import and require from one ES module build on Node 20.19+', () => {
    expect(manifest.scripts.prepack).toBe(manifest.scripts.build);
    expect(manifest.engines.node).toBe('>=20.19');
    expect(manifest.exports['.']).toEqual({ '@conv/source': './src/index.ts', ...dist });
    // The packed manifest has no src: the source condition stays home.
    expect(manifest.publishConfig.exports).toEqual({ '.': dist, './package.json': './package.json' });
  });

  it('depends on nothing of ours at run time: any @conv package is bundled into dist', async () => {
    const options = await build();
    expect(Object.keys(manifest.dependencies ?? {}).filter((name) => name.startsWith('@conv/'))).toEqual([]);
    expect(options.noExternal).toEqual([/^@conv\//]);
    expect(options.dts).toEqual({ resolve: [/^@conv\//] });
    expect(options.format).toBe('esm');
  });
});

// A package's README shows its use from outside the monorepo: `npm install ...` and then code.
describe.each(['protocol', 'server'])('the README of packages/%s', (folder) => {
  it('installs every package its example imports, outside this monorepo', () => {
    const readme = readFileSync(repoPath('packages', folder, 'README.md'), 'utf8');
    const code = /```js\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
    const install = /^npm install (.+)$/m.exec(readme)?.[1]?.split(/\s+/) ?? [];
    const imported = [...code.matchAll(/\bfrom '([^'.][^']*)'/g)].map((m) => m[1] ?? '').filter((name) => !name.startsWith('node:') && !builtinModules.includes(name));
    // A package of ours is installed from its packed tarball (conv-<name>-<version>.tgz), any other by name.
    const installs = (name: string) => install.some((arg) => (name.startsWith('@conv/') ? arg.includes(`/conv-${name.slice(6)}-`) : arg.replace(/@[^@/]*$/, '') === name));
    expect(imported).toContain(`@conv/${folder}`);
    expect(imported.filter((name) => !installs(name))).toEqual([]);
  });
});
