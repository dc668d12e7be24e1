import { testProject } from '../../vitest.base';

export default testProject('@conv/registry', { spawnsProcesses: true });
