import { testProject } from '../../vitest.base';
import { ALONE } from './vitest.alone.config';

export default testProject('discovery', { spawnsProcesses: true, alone: ALONE });
