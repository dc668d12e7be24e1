import { testProject } from '../../vitest.base';

export default testProject('@conv/protocol', { spawnsProcesses: true });
