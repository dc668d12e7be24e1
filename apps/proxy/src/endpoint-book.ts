import { type Endpoint, formatAddress } from '@conv/protocol';
import type { Outliers } from './outliers';


/** A key for an unordered pair of units: `LOOKUP a b` and `LOOKUP b a` ask for the same pool. Units never contain spaces. */
export function pairKey(a: string, b: string): string {
  return a < b ? `${a} ${b}` : `${b} ${a}`;
}

type Pool = { endpoints: Endpoint[]; cursor: number };

/** Forgotten endpoints remembered per pair as a last resort; a bound, so a long outage cannot grow it. */
const MAX_RETIRED_PER_PAIR = 8;

/**
 * What the proxy knows about converters, learned from discovery's answers: the endpoints seen
 * for each pair, handed out in local round robin, skipping the endpoints the outlier detector
 * has ejected. Pure data; the caller passes the time.
 */
export class EndpointBook {
  readonly #pools = new Map<string, Pool>();
  /** Endpoints forgotten per pair, newest last: the last resort when nothing else is left (see lastResort). */
  readonly #retired = new Map<string, Endpoint[]>();

  constructor(readonly outliers: Outliers) {}

  /** Remembers that discovery handed out `endpoint` for the pair. */
  learn(units: readonly [string, string], endpoint: Endpoint): void {
    const key = pairKey(units[0], units[1]);
    let pool = this.#pools.get(key);
    if (!pool) {
      pool = { endpoints: [], cursor: 0 };
      this.#pools.set(key, pool);
    }
    const wanted = formatAddress(endpoint);
    if (!pool.endpoints.some((known) => formatAddress(known) === wanted)) pool.endpoints.push(endpoint);
    const retired = this.#retired.get(key);
    if (retired) this.#retired.set(key, retired.filter((old) => formatAddress(old) !== wanted));
  }

  /** Drops `endpoint` from every pair: it is dead, or serves another pair now. */
  forget(endpoint: Endpoint): void {
    const gone = formatAddress(endpoint);
    for (const [key, pool] of this.#pools) {
      const index = pool.endpoints.findIndex((known) => formatAddress(known) === gone);
      if (index < 0) continue;
      pool.endpoints.splice(index, 1);
      if (pool.cursor > index) pool.cursor--;
      if (pool.endpoints.length === 0) this.#pools.delete(key);
      const retired = (this.#retired.get(key) ?? []).filter((old) => formatAddress(old) !== gone);
      retired.push(endpoint);
      this.#retired.set(key, retired.slice(-MAX_RETIRED_PER_PAIR));
    }
  }

  /**
   * The endpoint to try when a hop has nothing else (every known one tried or failed, and
   * discovery offers none or only failed ones): of the pair's known and forgotten endpoints
   * not tried for this request, the one whose failure is oldest. A failure mark is a
   * preference, not a ban: a replica that hung for a moment, or was restarted on its port
   * while discovery was down, is alive again, and one more attempt beats failing the client.
   */
  lastResort(a: string, b: string, exclude: ReadonlySet<string>): Endpoint | undefined {
    const key = pairKey(a, b);
    const candidates = [...(this.#pools.get(key)?.endpoints ?? []), ...(this.#retired.get(key) ?? [])].filter(
      (endpoint) => !exclude.has(formatAddress(endpoint)),
    );
    const failedAt = (endpoint: Endpoint) => this.outliers.ejectedUntil(endpoint);
    return candidates.sort((x, y) => failedAt(x) - failedAt(y))[0];
  }

  /** The endpoints known for a pair, in the order learned. */
  known(a: string, b: string): readonly Endpoint[] {
    return this.#pools.get(pairKey(a, b))?.endpoints ?? [];
  }

  /**
   * The next endpoint of the pair in round robin, skipping ejected ones and those in
   * `exclude` (already tried for this request); undefined when none is left.
   */
  pick(a: string, b: string, now: number, exclude: ReadonlySet<string> = new Set()): Endpoint | undefined {
    const pool = this.#pools.get(pairKey(a, b));
    if (!pool) return undefined;
    const count = pool.endpoints.length;
    for (let step = 0; step < count; step++) {
      const index = (pool.cursor + step) % count;
      const endpoint = pool.endpoints[index];
      if (!endpoint || exclude.has(formatAddress(endpoint)) || this.outliers.isEjected(endpoint, now)) continue;
      pool.cursor = (index + 1) % count;
      return endpoint;
    }
    return undefined;
  }
}
