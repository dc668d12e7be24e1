import { testProject } from '../../vitest.base';

export default testProject('@conv/testkit', { spawnsProcesses: true });
