import { PathFinder, type PathResult } from '@conv/conversion';
import { type Endpoint, type Health, type WatchChange, type WatchEntry, formatAddress } from '@conv/protocol';
import { pairKey } from './endpoint-book';

type Member = { readonly endpoint: Endpoint; readonly key: string; health: Health };
type ViewPool = { readonly pair: readonly [string, string]; readonly members: Member[]; cursor: number; up: number };

/** Order of preference for a last resort: never `wrong` (not a candidate at all). */
const RESORT_RANK: Record<Health, number> = { up: 0, pending: 1, down: 2, wrong: 3 };

/**
 * Every pool as discovery's watch describes it: each pair's endpoints with their health, kept
 * from a snapshot and the changes after it. Requests are spread in round robin over a pair's
 * `up` endpoints; `down` and `pending` ones are a last resort, `wrong` and removed ones are never
 * used. Paths are found over the pairs with an `up` endpoint (or, failing that, any usable
 * one). Pure data: no sockets, no clock.
 */
export class PoolView {
  readonly #pools = new Map<string, ViewPool>();
  readonly #byEndpoint = new Map<string, ViewPool>();
  #synced = false;
  /** Bumps when the set of pairs with an `up` endpoint (or with any usable one) changes. */
  readonly #graph = { version: 0 };
  readonly #finder: PathFinder;
  readonly #fallbackFinder: PathFinder;
  #settle: (() => void) | undefined;
  /**
   * Pair and endpoint of every registration this proxy has seen `up` and not seen removed or
   * `wrong` since: after a discovery restart every restored registration is `pending` until its
   * probe, and these are the ones a last resort may try one after another. A newcomer that was
   * never `up` (a bad redeploy, say) gets at most one try per request.
   */
  readonly #proven = new Set<string>();
  /** Resolves once the view is first synced, or the watch is known not to come (for now). */
  readonly settled: Promise<void>;

  constructor() {
    this.settled = new Promise((resolve) => (this.#settle = resolve));
    const graph = this.#graph;
    this.#finder = new PathFinder({
      get version() {
        return graph.version;
      },
      pairs: () => [...this.#pools.values()].filter((pool) => pool.up > 0).map((pool) => pool.pair),
    });
    this.#fallbackFinder = new PathFinder({
      get version() {
        return graph.version;
      },
      pairs: () => [...this.#pools.values()].filter((pool) => pool.members.some((m) => m.health !== 'wrong')).map((pool) => pool.pair),
    });
  }

  /** Whether the view came from a watch (and is kept, stale, while discovery is unreachable). */
  get synced(): boolean {
    return this.#synced;
  }

  /** How many endpoints the view holds. */
  get size(): number {
    return this.#byEndpoint.size;
  }

  /** A fresh snapshot replaces everything known; round-robin positions restart. */
  replace(entries: readonly WatchEntry[]): void {
    this.#pools.clear();
    this.#byEndpoint.clear();
    // Proven stays proven across snapshots (a discovery restart) only while still registered.
    const present = new Set(entries.map((entry) => provenKey(entry.units, entry.endpoint)));
    for (const key of this.#proven) if (!present.has(key)) this.#proven.delete(key);
    for (const entry of entries) this.#put(entry.units, entry.endpoint, entry.health);
    this.#synced = true;
    this.#graph.version++;
    this.#settleNow();
  }

  apply(change: WatchChange): void {
    // The pools touched: the change's pair, and the one the endpoint was in (if another).
    const held = this.#byEndpoint.get(formatAddress(change.endpoint));
    const touched = [pairKey(change.units[0], change.units[1]), ...(held ? [pairKey(held.pair[0], held.pair[1])] : [])];
    const before = touched.map((pk) => this.#shape(pk)).join('|');
    if (change.kind === 'removed') {
      this.#remove(change.endpoint);
      this.#proven.delete(provenKey(change.units, change.endpoint));
    } else this.#put(change.units, change.endpoint, change.health);
    // Paths change only when a pair gains or loses its last up (or usable) endpoint.
    if (touched.map((pk) => this.#shape(pk)).join('|') !== before) this.#graph.version++;
  }

  #shape(pk: string): string {
    const pool = this.#pools.get(pk);
    return pool === undefined ? '' : `${pool.up > 0} ${pool.members.some((m) => m.health !== 'wrong')}`;
  }

  /** The discovery now reached has no watch: the view is dropped, requests ask it instead. */
  clear(): void {
    this.#pools.clear();
    this.#byEndpoint.clear();
    this.#proven.clear();
    this.#synced = false;
    this.#graph.version++;
    this.#settleNow();
  }

  /** No discovery reachable: requests go on without waiting for a first view. */
  unavailable(): void {
    this.#settleNow();
  }

  /** The pair's next `up` endpoint in round robin that `usable` accepts; undefined when none is left. */
  pick(a: string, b: string, usable: (endpoint: Endpoint) => boolean): Endpoint | undefined {
    const pool = this.#pools.get(pairKey(a, b));
    if (pool === undefined || pool.up === 0) return undefined;
    const count = pool.members.length;
    for (let step = 0; step < count; step++) {
      const index = (pool.cursor + step) % count;
      const member = pool.members[index];
      if (member === undefined || member.health !== 'up' || !usable(member.endpoint)) continue;
      pool.cursor = (index + 1) % count;
      return member.endpoint;
    }
    return undefined;
  }

  /**
   * When no `up` endpoint is left for this request: of the pair's endpoints not `wrong` and not
   * in `exclude`, an `up` one first (failed recently, oldest failure first), then `pending`,
   * then `down`; within each, those seen `up` before first. `provenOnly`: only those.
   */
  lastResort(
    a: string,
    b: string,
    exclude: ReadonlySet<string>,
    failedAt: (endpoint: Endpoint) => number,
    options: { provenOnly?: boolean } = {},
  ): Endpoint | undefined {
    const pool = this.#pools.get(pairKey(a, b));
    if (pool === undefined) return undefined;
    const proven = (m: Member) => this.#proven.has(provenKey(pool.pair, m.endpoint));
    const candidates = pool.members.filter((m) => m.health !== 'wrong' && !exclude.has(m.key) && (!options.provenOnly || proven(m)));
    candidates.sort(
      (x, y) => RESORT_RANK[x.health] - RESORT_RANK[y.health] || Number(proven(y)) - Number(proven(x)) || failedAt(x.endpoint) - failedAt(y.endpoint),
    );
    return candidates[0]?.endpoint;
  }


  /** Fewest hops over pairs with an `up` endpoint, else over pairs with any usable one. */
  path(from: string, to: string): PathResult {
    const found = this.#finder.findPath(from, to);
    return found.ok ? found : this.#fallbackFinder.findPath(from, to);
  }

  /** The pair's endpoints and their health, in registration order (status, tests). */
  members(a: string, b: string): { endpoint: Endpoint; health: Health }[] {
    return (this.#pools.get(pairKey(a, b))?.members ?? []).map((m) => ({ endpoint: m.endpoint, health: m.health }));
  }

  #put(units: readonly [string, string], endpoint: Endpoint, health: Health): void {
    const key = formatAddress(endpoint);
    const pk = pairKey(units[0], units[1]);
    const held = this.#byEndpoint.get(key);
    if (held !== undefined && pairKey(held.pair[0], held.pair[1]) !== pk) this.#remove(endpoint);
    let pool = this.#pools.get(pk);
    if (pool === undefined) {
      pool = { pair: units[0] < units[1] ? [units[0], units[1]] : [units[1], units[0]], members: [], cursor: 0, up: 0 };
      this.#pools.set(pk, pool);
    }
    let member = pool.members.find((m) => m.key === key);
    if (member === undefined) {
      member = { endpoint, key, health };
      pool.members.push(member);
      this.#byEndpoint.set(key, pool);
    } else {
      if (member.health === 'up') pool.up--;
      member.health = health;
    }
    if (health === 'up') pool.up++;
    if (health === 'up') this.#proven.add(provenKey(pool.pair, endpoint));
    else if (health === 'wrong') this.#proven.delete(provenKey(pool.pair, endpoint));
  }

  #remove(endpoint: Endpoint): void {
    const key = formatAddress(endpoint);
    const pool = this.#byEndpoint.get(key);
    if (pool === undefined) return;
    this.#byEndpoint.delete(key);
    const index = pool.members.findIndex((m) => m.key === key);
    if (index < 0) return;
    const [member] = pool.members.splice(index, 1);
    if (member?.health === 'up') pool.up--;
    // The one after the removed member keeps its turn.
    if (pool.cursor > index) pool.cursor--;
    if (pool.members.length === 0) this.#pools.delete(pairKey(pool.pair[0], pool.pair[1]));
  }

  #settleNow(): void {
    this.#settle?.();
    this.#settle = undefined;
  }
}

function provenKey(units: readonly [string, string], endpoint: Endpoint): string {
  return `${pairKey(units[0], units[1])} ${formatAddress(endpoint)}`;
}
