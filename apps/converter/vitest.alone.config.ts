import { aloneProject } from '../../vitest.base';

/**
 * The hostile-input suite (a thousand connections, megabyte lines, memory measured):
 * alone on the machine (see aloneProject).
 */
export const ALONE = [
  'test/hostile-input-never-breaks-the-converter.test.ts',
];

export default aloneProject('converter', ALONE);
