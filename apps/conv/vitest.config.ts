import { testProject } from '../../vitest.base';
import { ALONE } from './vitest.alone.config';

export default testProject('conv', { spawnsProcesses: true, alone: ALONE });
