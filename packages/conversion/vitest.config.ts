import { testProject } from '../../vitest.base';

export default testProject('@conv/conversion', { spawnsProcesses: true });
