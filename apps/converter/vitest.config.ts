import { testProject } from '../../vitest.base';
import { ALONE } from './vitest.alone.config';

export default testProject('converter', { spawnsProcesses: true, alone: ALONE });
