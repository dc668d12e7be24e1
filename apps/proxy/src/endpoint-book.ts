import { type Endpoint, formatAddress } from '@conv/protocol';


/** A key for an unordered pair of units: `LOOKUP a b` and `LOOKUP b a` ask for the same pool. Units never contain spaces. */
export function pairKey(a: string, b: string): string {
  return a < b ? `${a} ${b}` : `${b} ${a}`;
}

type Pool = { endpoints: Endpoint[]; cursor: number };

/** Forgotten endpoints remembered per pair as a last resort; a bound, so a long outage cannot grow it. */
const MAX_RETIRED_PER_PAIR = 8;

/**
 * What the proxy knows about converters, learned from discovery's answers: the endpoints seen
 * for each pair, handed out in local round robin, and the endpoints that failed recently,
 * skipped until their failure is `failedTtlMs` old. Pure data; the caller passes the time.
 */
export class EndpointBook {
  readonly #pools = new Map<string, Pool>();
  readonly #failedUntil = new Map<string, number>();
  /** Endpoints forgotten per pair, newest last: the last resort when nothing else is left (see lastResort). */
  readonly #retired = new Map<string, Endpoint[]>();

  constructor(private readonly failedTtlMs: number) {}

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
    const failedAt = (endpoint: Endpoint) => this.#failedUntil.get(formatAddress(endpoint)) ?? 0;
    return candidates.sort((x, y) => failedAt(x) - failedAt(y))[0];
  }

  /** An endpoint that answered after all: known for the pair again, and no longer skipped. */
  revive(units: readonly [string, string], endpoint: Endpoint): void {
    this.#failedUntil.delete(formatAddress(endpoint));
    this.learn(units, endpoint);
  }

  /** Marks `endpoint` failed at `now`; returns false when it was already marked (report it once). */
  markFailed(endpoint: Endpoint, now: number): boolean {
    const fresh = !this.isFailed(endpoint, now);
    this.#failedUntil.set(formatAddress(endpoint), now + this.failedTtlMs);
    return fresh;
  }

  /** When the endpoint's failure mark ends; 0 when it has none (for ordering last resorts). */
  failedUntil(endpoint: Endpoint): number {
    return this.#failedUntil.get(formatAddress(endpoint)) ?? 0;
  }

  isFailed(endpoint: Endpoint, now: number): boolean {
    const key = formatAddress(endpoint);
    const until = this.#failedUntil.get(key);
    if (until === undefined) return false;
    if (until > now) return true;
    this.#failedUntil.delete(key);
    return false;
  }

  /** The endpoints known for a pair, in the order learned. */
  known(a: string, b: string): readonly Endpoint[] {
    return this.#pools.get(pairKey(a, b))?.endpoints ?? [];
  }

  /**
   * The next endpoint of the pair in round robin, skipping recently failed ones and those in
   * `exclude` (already tried for this request); undefined when none is left.
   */
  pick(a: string, b: string, now: number, exclude: ReadonlySet<string> = new Set()): Endpoint | undefined {
    const pool = this.#pools.get(pairKey(a, b));
    if (!pool) return undefined;
    const count = pool.endpoints.length;
    for (let step = 0; step < count; step++) {
      const index = (pool.cursor + step) % count;
      const endpoint = pool.endpoints[index];
      if (!endpoint || exclude.has(formatAddress(endpoint)) || this.isFailed(endpoint, now)) continue;
      pool.cursor = (index + 1) % count;
      return endpoint;
    }
    return undefined;
  }
}
