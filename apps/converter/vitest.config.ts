import { testProject } from '../../vitest.base';

export default testProject('converter', { spawnsProcesses: true });
