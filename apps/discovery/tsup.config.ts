import { appBuild } from '../../tsup.base';

// The probe thread's script (see createThreadedProber) is a bundle of its own beside main.js:
// a thread loads its own copy of the code anyway, so it shares no chunk with main.
export default [appBuild(), appBuild({ entry: ['src/probe-worker.ts'], splitting: false })];
