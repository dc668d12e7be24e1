import { LOG_LEVELS } from '@conv/observability';
import { z } from 'zod';

/** `--log-level`, validated with the rest of the flags; the logger itself is @conv/observability's. */
export const LogLevelSchema = z.enum(LOG_LEVELS);
