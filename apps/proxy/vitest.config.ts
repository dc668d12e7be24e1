import { testProject } from '../../vitest.base';

export default testProject('proxy', { spawnsProcesses: true });
