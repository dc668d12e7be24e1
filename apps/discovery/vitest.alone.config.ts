import { aloneProject } from '../../vitest.base';

/**
 * The hostile-input suite (a thousand connections, megabyte lines, memory measured) and the
 * status page in Chromium: each file alone on the machine (see aloneProject).
 */
export const ALONE = [
  'test/hostile-input-never-breaks-discovery.test.ts',
  'test/status-page-in-headless-chromium.test.ts',
];

export default aloneProject('discovery', ALONE);
