import { aloneProject } from '../../vitest.base';

/** Whole systems and chaos runs: each file alone on the machine (see aloneProject). */
export const ALONE = [
  'test/chaos-keeps-answering.test.ts',
  'test/chaos-on-etcd-keeps-answering.test.ts',
  'test/whole-system-answers-the-course.test.ts',
  'test/up-on-a-three-member-etcd-cluster.test.ts',
];

export default aloneProject('conv', ALONE);
