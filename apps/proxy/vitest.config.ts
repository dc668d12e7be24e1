import { testProject } from '../../vitest.base';
import { ALONE } from './vitest.alone.config';

export default testProject('proxy', { spawnsProcesses: true, alone: ALONE });
