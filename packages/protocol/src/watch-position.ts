import { z } from 'zod';
import { type Result, fail, ok } from './failures';
import { quote } from './quote';

/**
 * Where a watcher stands in a discovery server's change feed: the server's epoch (made at
 * random when the process starts) and the number of the last change seen (`seq`, one more per
 * change; 0 before the first).
 */
export const EpochSchema = z.string().regex(/^[A-Za-z0-9._-]{1,64}$/);
export const WatchSeqSchema = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
export const WatchPositionSchema = z.object({ epoch: EpochSchema, seq: WatchSeqSchema });
export type WatchPosition = z.infer<typeof WatchPositionSchema>;

export function parseEpoch(token: string): Result<string> {
  if (EpochSchema.safeParse(token).success) return ok(token);
  return fail('BAD_ARITY', `${quote(token)} is not an epoch: 1 to 64 letters, digits, dots, dashes or underscores.`);
}

export function parseWatchSeq(token: string): Result<number> {
  if (/^(?:0|[1-9][0-9]{0,15})$/.test(token)) {
    const seq = Number(token);
    if (Number.isSafeInteger(seq)) return ok(seq);
  }
  return fail('BAD_ARITY', `${quote(token)} is not a change number: a whole number from 0, without leading zeros.`);
}

/** A name a watcher gives itself (`as=<name>`): printable ASCII, no spaces. */
export const WatcherNameSchema = z.string().regex(/^[\x21-\x7e]{1,64}$/);
