import { z } from 'zod';

/**
 * A registration's health as discovery decides it: `pending` (not yet checked), `up`, `down`
 * (probes failed, or its lease lapsed), `wrong` (it answers, but wrongly).
 */
export const HealthSchema = z.enum(['pending', 'up', 'down', 'wrong']);
export type Health = z.infer<typeof HealthSchema>;
