import { defineProject } from 'vitest/config';

export default defineProject({
  // Resolve @conv/* packages to their TypeScript source, so tests need no build step.
  resolve: { conditions: ['@conv/source'] },
  ssr: { resolve: { conditions: ['@conv/source'] } },
  test: {
    name: 'conv',
    // These tests start real processes; their waits poll with their own deadlines, and this
    // outer limit only catches a test that hangs, even on a loaded machine.
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
