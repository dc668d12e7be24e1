import { testProject } from '../../vitest.base';

export default testProject('discovery', { spawnsProcesses: true });
