import { packageBuild } from '../../tsup.base';

// The shared suites call vitest's describe/it: the test runner is the caller's, never bundled.
export default packageBuild({ external: ['vitest'] });
