import { defineProject } from 'vitest/config';

/**
 * One test project. Tests resolve @conv/* packages to their TypeScript source, so they need no
 * build step. `spawnsProcesses`: the tests start real processes (built apps, or `tsx` running a
 * README's example, which alone takes seconds to start on a busy machine); their waits poll with
 * their own deadlines, and these outer limits only catch a test that hangs, even beside two CPU burners.
 */
export function testProject(name: string, options: { spawnsProcesses?: boolean } = {}) {
  return defineProject({
    resolve: { conditions: ['@conv/source'] },
    ssr: { resolve: { conditions: ['@conv/source'] } },
    test: { name, ...(options.spawnsProcesses ? { testTimeout: 60_000, hookTimeout: 60_000 } : {}) },
  });
}
