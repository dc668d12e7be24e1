import { TokenBucket } from './token-bucket';

export type ReportLimits = {
  /** Report-triggered probes of one endpoint: at most one per this many ms. */
  readonly perEndpointMs: number;
  /** Reports one reporter (source address) may have acted on per second, and in a burst. */
  readonly perReporterRate: number;
  readonly perReporterBurst: number;
  /** Reports acted on per second from everyone together (spoofed sources are many). */
  readonly totalRate: number;
};

/**
 * Why these numbers: a report only asks for a probe, and a probe of a dead endpoint takes it down
 * in `failuresToDown` back-to-back probes, so one acted-on report per endpoint per second loses
 * nothing; 20 a second per reporter covers a proxy losing a whole rack at once; 100 a second in
 * all bounds what a flood from many addresses can cost (each probe is one or two connections).
 */
export const DEFAULT_REPORT_LIMITS: ReportLimits = Object.freeze({ perEndpointMs: 1000, perReporterRate: 20, perReporterBurst: 20, totalRate: 100 });

/** Past this many remembered reporters or endpoints, idle ones are forgotten. */
const PRUNE_AT = 4096;

export type ReportStats = { received: number; acted: number; limited: number };

/**
 * Decides which reports turn into a probe: the rest are answered SUCCESS all the same (a report
 * is a request, and the reporter need not know it was folded into one already acted on).
 */
export class ReportLimiter {
  readonly stats: ReportStats = { received: 0, acted: 0, limited: 0 };
  readonly #limits: ReportLimits;
  readonly #now: () => number;
  readonly #reporters = new Map<string, TokenBucket>();
  readonly #endpoints = new Map<string, number>();
  readonly #total: TokenBucket;

  constructor(limits: ReportLimits = DEFAULT_REPORT_LIMITS, now: () => number = () => performance.now()) {
    this.#limits = limits;
    this.#now = now;
    this.#total = new TokenBucket(limits.totalRate, limits.totalRate, now, limits.totalRate);
  }

  /** True when this report of `endpoint` (a key) from `reporter` should be acted on now. */
  admit(reporter: string, endpoint: string): boolean {
    this.stats.received++;
    const now = this.#now();
    const last = this.#endpoints.get(endpoint);
    if (last !== undefined && now - last < this.#limits.perEndpointMs) return this.#limited();
    let bucket = this.#reporters.get(reporter);
    if (bucket === undefined) {
      if (this.#reporters.size >= PRUNE_AT) this.#prune(now);
      const { perReporterRate, perReporterBurst } = this.#limits;
      bucket = new TokenBucket(perReporterRate, perReporterBurst, this.#now, perReporterBurst);
      this.#reporters.set(reporter, bucket);
    }
    if (!bucket.take() || !this.#total.take()) return this.#limited();
    if (this.#endpoints.size >= PRUNE_AT && last === undefined) this.#prune(now);
    this.#endpoints.set(endpoint, now);
    this.stats.acted++;
    return true;
  }

  #limited(): false {
    this.stats.limited++;
    return false;
  }

  #prune(now: number): void {
    for (const [key, at] of this.#endpoints) if (now - at >= this.#limits.perEndpointMs) this.#endpoints.delete(key);
    for (const [key, bucket] of this.#reporters) if (bucket.full()) this.#reporters.delete(key);
  }
}
