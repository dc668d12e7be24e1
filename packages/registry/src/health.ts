import { type Health, quote } from '@conv/protocol';
import { RegistryError } from './errors';

export type { Health };

/**
 * One probe's verdict: `ok` answered right, `failed` did not answer (refused, timed out,
 * garbage), `wrong` answered a number that fails the answer checks, `busy` is alive but at its
 * connection limit (it answered TOO_MANY_CONNECTIONS): never a failure, never a promotion.
 * A boolean is `ok` (true) or `failed` (false).
 */
export type ProbeVerdict = 'ok' | 'failed' | 'wrong' | 'busy';

export type HealthPolicy = {
  /** Consecutive failed probes that take an `up` endpoint `down`. */
  readonly failuresToDown: number;
  /** Consecutive successful probes that bring a `down` endpoint back `up`. */
  readonly successesToUp: number;
  /** A `down` endpoint not seen (probe success or ADD) for longer than this is swept. */
  readonly downGraceMs: number;
  /** A `pending` endpoint not seen for longer than this is swept. */
  readonly pendingGraceMs: number;
};

export const DEFAULT_HEALTH_POLICY: HealthPolicy = Object.freeze({
  failuresToDown: 3,
  successesToUp: 2,
  downGraceMs: 60_000,
  pendingGraceMs: 60_000,
});

const COUNTS = ['failuresToDown', 'successesToUp'] as const;
const DURATIONS = ['downGraceMs', 'pendingGraceMs'] as const;
const KNOWN = new Set<string>([...COUNTS, ...DURATIONS]);

/** Merges a partial policy over the defaults, refusing unknown keys and nonsense values. */
export function validateHealthPolicy(input: unknown): HealthPolicy {
  if (input === undefined) return DEFAULT_HEALTH_POLICY;
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new RegistryError('INVALID_OPTIONS', `Expected a health policy object, received ${quote(input)}.`);
  }
  const given = input as Record<string, unknown>;
  for (const key of Object.keys(given)) {
    if (!KNOWN.has(key)) {
      throw new RegistryError('INVALID_OPTIONS', `Unknown health policy key ${quote(key)}; expected one of ${[...KNOWN].join(', ')}.`);
    }
  }
  const policy: Record<string, number> = { ...DEFAULT_HEALTH_POLICY };
  for (const key of COUNTS) {
    const value = given[key];
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
      throw new RegistryError('INVALID_OPTIONS', `Expected ${key} to be an integer >= 1, received ${quote(value)}.`);
    }
    policy[key] = value;
  }
  for (const key of DURATIONS) {
    const value = given[key];
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw new RegistryError('INVALID_OPTIONS', `Expected ${key} to be a number of milliseconds >= 0, received ${quote(value)}.`);
    }
    policy[key] = value;
  }
  return Object.freeze(policy as HealthPolicy);
}
