import { testProject } from '../../vitest.base';

export default testProject('@conv/server', { spawnsProcesses: true });
