import { type Endpoint, type OutlierRecord, formatAddress } from '@conv/protocol';

/** How long an ejection lasts: `baseMs` the first time, doubling with each consecutive one, at most `maxMs`. */
export type EjectionPolicy = { readonly baseMs: number; readonly maxMs: number };

type Mark = { endpoint: Endpoint; consecutive: number; ejectionMs: number; until: number };

/** The ejection for the `consecutive`-th ejection in a row (1 = first). */
export function ejectionMs(policy: EjectionPolicy, consecutive: number): number {
  // Past 2^30 the cap has long been reached; the bound keeps the arithmetic exact.
  const factor = 2 ** Math.min(Math.max(consecutive - 1, 0), 30);
  return Math.min(policy.baseMs * factor, Math.max(policy.maxMs, policy.baseMs));
}

/**
 * Outlier detection in the manner of Envoy's: an endpoint that timed out or failed is ejected
 * (skipped while another replica is usable) for a time that doubles with each ejection in a row,
 * up to a cap, and starts over once it answers again. An ejection is the proxy's own opinion:
 * it is reported to discovery, and only discovery's probe decides `down`. Pure: the caller
 * passes the time.
 */
export class Outliers {
  readonly #marks = new Map<string, Mark>();
  /** Every ejection since start, for the operator port. */
  ejections = 0;

  constructor(readonly policy: EjectionPolicy) {}

  /**
   * Ejects `endpoint` at `now`. A failure seen while it is already ejected (requests that were
   * in flight when it failed) changes nothing and returns `fresh: false`, so each ejection is
   * counted and reported once.
   */
  eject(endpoint: Endpoint, now: number): { fresh: boolean; consecutive: number; ejectionMs: number } {
    const key = formatAddress(endpoint);
    const mark = this.#marks.get(key);
    if (mark !== undefined && mark.until > now) return { fresh: false, consecutive: mark.consecutive, ejectionMs: mark.ejectionMs };
    this.#forgetQuiet(now);
    const consecutive = (mark?.consecutive ?? 0) + 1;
    const duration = ejectionMs(this.policy, consecutive);
    this.#marks.set(key, { endpoint, consecutive, ejectionMs: duration, until: now + duration });
    this.ejections++;
    return { fresh: true, consecutive, ejectionMs: duration };
  }

  /** The endpoint answered: its next failure is a first one again. Returns whether it had a record. */
  succeeded(endpoint: Endpoint): boolean {
    if (this.#marks.size === 0) return false;
    return this.#marks.delete(formatAddress(endpoint));
  }

  isEjected(endpoint: Endpoint, now: number): boolean {
    if (this.#marks.size === 0) return false;
    const mark = this.#marks.get(formatAddress(endpoint));
    return mark !== undefined && mark.until > now;
  }

  /** When the latest ejection ends (or ended); 0 for an endpoint never ejected. Orders last resorts. */
  ejectedUntil(endpoint: Endpoint): number {
    return this.#marks.get(formatAddress(endpoint))?.until ?? 0;
  }

  /** Every endpoint with a record, ejected ones first, then by address. */
  records(now: number): OutlierRecord[] {
    return [...this.#marks.entries()]
      .map(([key, mark]) => ({ endpoint: key, consecutive: mark.consecutive, ejectionMs: mark.ejectionMs, ejected: mark.until > now, remainingMs: Math.max(0, mark.until - now) }))
      .sort((x, y) => Number(y.ejected) - Number(x.ejected) || (x.endpoint < y.endpoint ? -1 : 1));
  }

  /** How many endpoints are ejected at `now`. */
  ejectedCount(now: number): number {
    let count = 0;
    for (const mark of this.#marks.values()) if (mark.until > now) count++;
    return count;
  }

  /**
   * A record whose ejection ended more than the cap ago, with no failure since, is dropped: the
   * endpoint was not tried since (removed, or never picked again), and keeping every address
   * ever ejected would grow without bound. It starts over as if it had answered.
   */
  #forgetQuiet(now: number): void {
    const quiet = Math.max(this.policy.maxMs, this.policy.baseMs);
    for (const [key, mark] of this.#marks) if (mark.until + quiet < now) this.#marks.delete(key);
  }
}
