import { readFileSync } from 'node:fs';
import type { Options } from 'tsup';
import { describe, expect, it } from 'vitest';
import tsupConfig from '../tsup.config';

type Manifest = {
  scripts: Record<string, string>;
  engines: { node: string };
  exports: Record<string, unknown>;
  publishConfig: { exports: Record<string, unknown> };
  dependencies?: Record<string, string>;
};
const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as Manifest;
const build = tsupConfig as Options;
const dist = { types: './dist/index.d.ts', import: './dist/index.js', require: './dist/index.js' };

// The full round trip (pack with no build, npm install outside the repo, import and require)
// runs for @conv/registry; the publishable packages share its shape, pinned here.
describe('the manifest @conv/conversion is packed with', () => {
  it('builds before packing, and serves import and require from one ES module build on Node 20.19+', () => {
    expect(manifest.scripts.prepack).toBe(manifest.scripts.build);
    expect(manifest.engines.node).toBe('>=20.19');
    expect(manifest.exports['.']).toEqual({ '@conv/source': './src/index.ts', ...dist });
    // The packed manifest has no src: the source condition stays home.
    expect(manifest.publishConfig.exports).toEqual({ '.': dist, './package.json': './package.json' });
  });

  it('depends on nothing of ours at run time: any @conv package is bundled into dist', () => {
    expect(Object.keys(manifest.dependencies ?? {}).filter((name) => name.startsWith('@conv/'))).toEqual([]);
    expect(build.noExternal).toEqual([/^@conv\//]);
    expect(build.dts).toEqual({ resolve: [/^@conv\//] });
    expect(build.format).toBe('esm');
  });
});
