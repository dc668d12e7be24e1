import { defineProject } from 'vitest/config';

export default defineProject({
  // Resolve @conv/* packages to their TypeScript source, so tests need no build step.
  resolve: { conditions: ['@conv/source'] },
  ssr: { resolve: { conditions: ['@conv/source'] } },
  test: { name: '@conv/observability' },
});
