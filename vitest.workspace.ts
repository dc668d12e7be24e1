// The single list of test projects. Vitest 4 reads projects from its config, so
// vitest.config.ts imports this list instead of keeping a second one.
export default [
  'packages/protocol',
  'packages/registry',
  'packages/conversion',
  'packages/testkit',
  'packages/server',
  'apps/discovery/vitest.config.ts',
  'apps/converter/vitest.config.ts',
  'apps/proxy/vitest.config.ts',
  'apps/conv/vitest.config.ts',
  // The apps' files that must not share the machine (hostile suites, Chromium, whole systems,
  // chaos runs): one at a time, after the rest.
  'apps/discovery/vitest.alone.config.ts',
  'apps/converter/vitest.alone.config.ts',
  'apps/proxy/vitest.alone.config.ts',
  'apps/conv/vitest.alone.config.ts',
];
