import { configDefaults, defineProject } from 'vitest/config';

/**
 * Test files of one project that share the machine: two at a time. Most of a test's time is
 * spent waiting on processes, sockets and probe intervals, not computing, so two files on two
 * cores finish in little more than the time of the longer. Vitest's default on two cores is one.
 */
const SHARING_WORKERS = 2;

/**
 * One test project. Tests resolve @conv/* packages to their TypeScript source, so they need no
 * build step. `spawnsProcesses`: the tests start real processes (built apps, or `tsx` running a
 * README's example, which alone takes seconds to start on a busy machine); their waits poll with
 * their own deadlines, and these outer limits only catch a test that hangs, even beside two CPU burners.
 * `alone`: files of this project that run in its `aloneProject` instead (see there).
 */
export function testProject(name: string, options: { spawnsProcesses?: boolean; alone?: readonly string[] } = {}) {
  return defineProject({
    resolve: { conditions: ['@conv/source'] },
    ssr: { resolve: { conditions: ['@conv/source'] } },
    test: {
      name,
      maxWorkers: SHARING_WORKERS,
      exclude: [...configDefaults.exclude, ...(options.alone ?? [])],
      ...(options.spawnsProcesses ? { testTimeout: 60_000, hookTimeout: 60_000 } : {}),
    },
  });
}

/**
 * The files of a project that bring up a whole system (two dozen processes, or a chaos run
 * with its own load and faults) and must not share the two cores with another file: they run
 * one at a time, after every other file (a later group), as the whole suite ran before.
 */
export function aloneProject(name: string, files: readonly string[]) {
  return defineProject({
    resolve: { conditions: ['@conv/source'] },
    ssr: { resolve: { conditions: ['@conv/source'] } },
    test: {
      name: `${name} (alone)`,
      include: [...files],
      maxWorkers: 1,
      sequence: { groupOrder: 1 },
      testTimeout: 60_000,
      hookTimeout: 60_000,
    },
  });
}
