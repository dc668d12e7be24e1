// The single list of test projects. Vitest 4 reads projects from its config, so
// vitest.config.ts imports this list instead of keeping a second one.
export default [
  'packages/protocol',
  'packages/registry',
  'packages/conversion',
  'packages/testkit',
  'packages/server',
  'apps/discovery',
  'apps/converter',
  'apps/proxy',
  'apps/conv/vitest.config.ts',
  // Its files that bring up whole systems, one at a time after the rest.
  'apps/conv/vitest.alone.config.ts',
];
