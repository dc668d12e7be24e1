import { aloneProject } from '../../vitest.base';

/**
 * The hostile-input suite (a thousand connections, megabyte lines, memory measured):
 * alone on the machine (see aloneProject).
 */
export const ALONE = [
  'test/hostile-input-never-breaks-the-proxy.test.ts',
];

export default aloneProject('proxy', ALONE);
