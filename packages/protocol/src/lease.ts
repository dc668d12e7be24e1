import { z } from 'zod';
import { formatDuration, parseDuration } from './duration';
import { type Result, fail, ok } from './failures';
import { quote } from './quote';

/** The shortest lease: shorter would lapse before a loaded server has even answered the ADD. */
export const MIN_LEASE_MS = 100;
/** The longest lease: a heartbeat rarer than hourly proves nothing a probe would not. */
export const MAX_LEASE_MS = 60 * 60 * 1000;

/** A lease's length in milliseconds, as `ADD ... lease=<duration>` asks for it. */
export const LeaseMsSchema = z.number().int().min(MIN_LEASE_MS).max(MAX_LEASE_MS);

/** The argument word: `lease=5s`. */
export const LEASE_PREFIX = 'lease=';

/** Reads the value of a `lease=<duration>` argument: a duration as every flag takes it (`1500`, `500ms`, `5s`, `1m`). */
export function parseLease(value: string): Result<number> {
  const ms = parseDuration(value);
  if (ms === undefined) return fail('BAD_LEASE', `${quote(value)} is not a duration (such as 500ms, 5s or 1m).`);
  if (!LeaseMsSchema.safeParse(ms).success) {
    return fail('BAD_LEASE', `a lease of ${quote(value)} is outside ${formatDuration(MIN_LEASE_MS)} to ${formatDuration(MAX_LEASE_MS)}.`);
  }
  return ok(ms);
}

/** `lease=5s`, `lease=1.5s`, `lease=250ms`: the shortest exact spelling. */
export function formatLease(ms: number): string {
  return `${LEASE_PREFIX}${formatDuration(ms)}`;
}
