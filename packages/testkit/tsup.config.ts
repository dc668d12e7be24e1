import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts'],
  format: 'esm',
  target: 'node20',
  dts: true,
  clean: true,
  sourcemap: true,
  // The shared suites call vitest's describe/it: the test runner is the caller's, never bundled.
  external: ['vitest'],
});
