import { ChangeFeed } from './change-feed';
import { type Endpoint, type UnitPair, keyOf } from './endpoint';
import type { Health, HealthPolicy, ProbeVerdict } from './health';
import { Entry, Lease, Pool } from './pool';

/** A snapshot of one registration; changing it changes nothing in the registry. */
export type Registration = {
  pair: UnitPair;
  endpoint: Endpoint;
  health: Health;
  addedAt: number;
  /** Last ADD of this endpoint or last successful probe. Not persisted. */
  lastSeen: number;
  lastCheck?: number;
  /** When `health` last changed; a restored entry's clock starts at open. */
  healthSince: number;
  consecutiveFailures: number;
  consecutiveSuccesses: number;
  /**
   * Times `next()` returned this endpoint since it registered; kept across a reopen as of the
   * last `flushServed()` or `close()` by a store that keeps counts (SQLite does).
   */
  served: number;
  /** Its lease's length; absent for a registration that never heartbeats (probed only). */
  leaseMs?: number;
  /** When its lease lapses unless renewed; absent where this registry does not time it (a shared store's lease). */
  leaseExpiresAt?: number;
  /** Its lease lapsed and no ADD has renewed it since. */
  lapsed: boolean;
  /** How often its lease has lapsed (this process). */
  lapses: number;
};

export type Transition = { endpoint: Endpoint; pair: UnitPair; from: Health; to: Health | 'removed' };
export type RegistryCounts = { pools: number; endpoints: number; up: number; down: number; pending: number; wrong: number; leased: number; lapsed: number };

/** One registration to put in a pool, as a store or a shared feed describes it. */
export type NewEntry = {
  readonly pair: UnitPair;
  readonly endpoint: Endpoint;
  readonly seq: number;
  readonly health: Health;
  /** When the health was set (now, for a new or restored entry). */
  readonly since: number;
  /** When it was first registered; `since` when absent (a registration made now). */
  readonly addedAt?: number;
  /** When it was last heard of; `addedAt` when absent. */
  readonly lastSeen?: number;
  /** `keyOf(endpoint)`, when the caller has made it already. */
  readonly key?: string;
  /**
   * Part of the state the registry opens with (restored from its store before anyone could
   * watch it): not a change. A watcher's first snapshot includes it.
   */
  readonly restored?: boolean;
  /** Its lease's length, if it has one. */
  readonly leaseMs?: number | undefined;
  /** Whether this registry times the lease (from `since`); a shared store ends its leases itself. */
  readonly timeLease?: boolean;
};

/**
 * The pure part of a registry: round-robin pools of endpoints per unit pair, with health
 * states and the counts that go with them. No store, no clock (callers pass the time), no
 * I/O: the local and the shared registry keep their pools in one of these.
 */
export class Pools {
  readonly #byKey = new Map<string, Entry>();
  /** unit a -> unit b -> pool; two lookups, no key string built on the hot path. */
  readonly #pools = new Map<string, Map<string, Pool>>();
  #poolCount = 0;
  #up = 0;
  #down = 0;
  #pending = 0;
  #wrong = 0;
  /** Entries whose lease this registry times: the only ones `expireLeases` looks at. */
  readonly #timed = new Set<Entry>();
  #leased = 0;
  #lapsed = 0;
  /**
   * No timed lease lapses before this: a lower bound (renewals only move leases later), so
   * `expireLeases` looks at no entry until then, and a heartbeat costs no scan.
   */
  #nextLapse = Number.POSITIVE_INFINITY;
  #version = 0;
  #pairs: readonly UnitPair[] | undefined;
  /** Every change below, in order, for watchers. */
  readonly changes: ChangeFeed;

  constructor(changes: ChangeFeed = new ChangeFeed()) {
    this.changes = changes;
  }

  /** Bumps exactly when the set returned by `pairs()` changes. */
  get version(): number {
    return this.#version;
  }

  get size(): number {
    return this.#byKey.size;
  }

  entry(key: string): Entry | undefined {
    return this.#byKey.get(key);
  }

  entries(): IterableIterator<Entry> {
    return this.#byKey.values();
  }

  /** The pool of a pair, in either order of its units. */
  pool(a: string, b: string): Pool | undefined {
    return this.#pools.get(a)?.get(b) ?? this.#pools.get(b)?.get(a);
  }

  attach(added: NewEntry): Entry {
    const { pair, endpoint, health } = added;
    let inner = this.#pools.get(pair[0]);
    if (inner === undefined) {
      inner = new Map();
      this.#pools.set(pair[0], inner);
    }
    let pool = inner.get(pair[1]);
    if (pool === undefined) {
      pool = new Pool(pair);
      inner.set(pair[1], pool);
      this.#poolCount++;
    }
    // One number for the times that coincide: each read of a field makes a fresh 16-byte heap
    // number, three per entry (3.2 MB of a 100,000-endpoint registry) where one does.
    const since = added.since;
    const addedAt = added.addedAt ?? since;
    const entry = new Entry(added.seq, pool, endpoint, added.key ?? keyOf(endpoint), addedAt, added.lastSeen ?? addedAt, health, since);
    pool.append(entry);
    this.#byKey.set(entry.key, entry);
    this.#count(health, 1);
    if (added.leaseMs !== undefined) this.#leaseOn(entry, added.leaseMs, added.timeLease === true ? since : undefined);
    if (health === 'up') this.#upChanged(pool, 1);
    if (added.restored !== true) this.changes.record('added', pool.pair, endpoint, health);
    return entry;
  }

  detach(entry: Entry): void {
    const pool = entry.pool;
    if (entry.health === 'up') this.#upChanged(pool, -1);
    this.#count(entry.health, -1);
    pool.remove(entry);
    this.#byKey.delete(entry.key);
    this.#leaseOff(entry);
    if (pool.members.length === 0) {
      pool.retired = true;
      const inner = this.#pools.get(pool.pair[0]);
      inner?.delete(pool.pair[1]);
      if (inner?.size === 0) this.#pools.delete(pool.pair[0]);
      this.#poolCount--;
    }
    this.changes.record('removed', pool.pair, entry.endpoint, entry.health);
  }

  setHealth(entry: Entry, to: Health, t: number): Transition {
    const from = entry.health;
    this.#count(from, -1);
    this.#count(to, 1);
    if (from === 'up') this.#upChanged(entry.pool, -1);
    if (to === 'up') this.#upChanged(entry.pool, 1);
    entry.health = to;
    entry.healthSince = t;
    if (from !== to) this.changes.record('health', entry.pool.pair, entry.endpoint, to);
    return { endpoint: entry.endpoint, pair: entry.pool.pair, from, to };
  }

  /**
   * One probe's verdict through the health state machine (README: pending -> up <-> down, and
   * any -> wrong on a wrong answer; wrong and down come back up after `successesToUp` right ones).
   */
  recordProbe(entry: Entry, verdict: boolean | ProbeVerdict, t: number, policy: HealthPolicy): Transition | undefined {
    const outcome = verdict === true ? 'ok' : verdict === false ? 'failed' : verdict;
    entry.lastCheck = t;
    switch (outcome) {
      case 'ok':
        entry.consecutiveSuccesses++;
        entry.consecutiveFailures = 0;
        entry.lastSeen = t;
        // A lapsed lease holds it down: only its own ADD says it is back (a probe may reach a
        // process that has lost its way to discovery, or a new one on a reused port).
        if (entry.lease?.lapsed) return undefined;
        if (entry.health === 'pending') return this.setHealth(entry, 'up', t);
        if ((entry.health === 'down' || entry.health === 'wrong') && entry.consecutiveSuccesses >= policy.successesToUp) return this.setHealth(entry, 'up', t);
        return undefined;
      case 'busy':
        // Alive (it answered), but its answers went unchecked: no streak of either kind moves on.
        entry.consecutiveFailures = 0;
        entry.lastSeen = t;
        return undefined;
      case 'wrong':
        // One wrong answer is enough: a correct server never gets an exact value wrong.
        entry.consecutiveSuccesses = 0;
        entry.consecutiveFailures = 0;
        return entry.health === 'wrong' ? undefined : this.setHealth(entry, 'wrong', t);
      case 'failed':
        entry.consecutiveFailures++;
        entry.consecutiveSuccesses = 0;
        if (entry.health === 'up' && entry.consecutiveFailures >= policy.failuresToDown) return this.setHealth(entry, 'down', t);
        return undefined;
    }
  }

  /**
   * An ADD of a registered entry: it now holds a lease of `leaseMs` from `t` (timed here when
   * `time`), or none when `leaseMs` is undefined (the latest ADD decides). A lapsed lease so
   * renewed makes the entry `pending` again: unproven, as a new registration, until a probe.
   */
  renewLease(entry: Entry, leaseMs: number | undefined, t: number, time: boolean): Transition | undefined {
    this.#leaseOff(entry);
    const lapsed = entry.lease?.lapsed === true;
    if (entry.lease) entry.lease.lapsed = false;
    if (leaseMs !== undefined) this.#leaseOn(entry, leaseMs, time ? t : undefined);
    if (lapsed && entry.health === 'down') {
      entry.consecutiveFailures = 0;
      entry.consecutiveSuccesses = 0;
      return this.setHealth(entry, 'pending', t);
    }
    return undefined;
  }

  /**
   * Every timed lease that has run out by `t` lapses: its entry is `down` at once (one health
   * change, whatever it was) and stays down until an ADD renews the lease. Returns the
   * transitions, and when the next lease would lapse if none is renewed (undefined: none timed).
   */
  expireLeases(t: number): { lapsed: Transition[]; nextAt: number | undefined } {
    if (t < this.#nextLapse) return { lapsed: [], nextAt: Number.isFinite(this.#nextLapse) ? this.#nextLapse : undefined };
    const lapsed: Transition[] = [];
    let nextAt: number | undefined;
    for (const entry of this.#timed) {
      const lease = entry.lease;
      const expires = lease?.expiresAt;
      if (lease === undefined || expires === undefined || lease.lapsed) continue;
      if (expires > t) {
        if (nextAt === undefined || expires < nextAt) nextAt = expires;
        continue;
      }
      lease.lapsed = true;
      lease.lapses++;
      this.#lapsed++;
      entry.consecutiveSuccesses = 0;
      const from = entry.health;
      if (from === 'down') lapsed.push({ endpoint: entry.endpoint, pair: entry.pool.pair, from, to: 'down' });
      else lapsed.push(this.setHealth(entry, 'down', t));
    }
    this.#nextLapse = nextAt ?? Number.POSITIVE_INFINITY;
    return { lapsed, nextAt };
  }

  #leaseOn(entry: Entry, leaseMs: number, from: number | undefined): void {
    const lease = (entry.lease ??= new Lease());
    lease.ms = leaseMs;
    this.#leased++;
    if (from === undefined) return;
    lease.expiresAt = from + leaseMs;
    this.#timed.add(entry);
    if (lease.expiresAt < this.#nextLapse) this.#nextLapse = lease.expiresAt;
  }

  #leaseOff(entry: Entry): void {
    const lease = entry.lease;
    if (lease === undefined) return;
    if (lease.lapsed) this.#lapsed--;
    if (lease.ms !== undefined) this.#leased--;
    lease.ms = undefined;
    lease.expiresAt = undefined;
    this.#timed.delete(entry);
  }

  /** Entries `down`, `wrong` or `pending` for longer than their grace (`wrong` has the down grace), from the later of their last health change and sighting. */
  overdue(t: number, policy: HealthPolicy): Entry[] {
    const doomed: Entry[] = [];
    for (const entry of this.#byKey.values()) {
      if (entry.health === 'up') continue;
      const quiet = t - Math.max(entry.healthSince, entry.lastSeen);
      if (quiet > (entry.health === 'pending' ? policy.pendingGraceMs : policy.downGraceMs)) doomed.push(entry);
    }
    return doomed;
  }

  /**
   * Every registration: pools ordered by their oldest endpoint, endpoints in pool order.
   * Both orders derive from registration order alone, so a reopened registry lists the same.
   */
  registrations(): Registration[] {
    const pools: Pool[] = [];
    for (const inner of this.#pools.values()) for (const pool of inner.values()) pools.push(pool);
    pools.sort((x, y) => (x.members[0]?.seq ?? 0) - (y.members[0]?.seq ?? 0));
    return pools.flatMap((pool) => pool.members.map(snapshot));
  }

  counts(): RegistryCounts {
    return { pools: this.#poolCount, endpoints: this.#byKey.size, up: this.#up, down: this.#down, pending: this.#pending, wrong: this.#wrong, leased: this.#leased, lapsed: this.#lapsed };
  }

  /** Pairs with at least one `up` endpoint, sorted; the edges of the conversion graph. */
  pairs(): UnitPair[] {
    if (this.#pairs === undefined) {
      const pairs: UnitPair[] = [];
      for (const inner of this.#pools.values()) for (const pool of inner.values()) if (pool.upCount > 0) pairs.push(pool.pair);
      pairs.sort(comparePairs);
      this.#pairs = pairs;
    }
    return [...this.#pairs];
  }

  /** Every pool leaves: handles held by callers find nothing any more. */
  retire(): void {
    for (const inner of this.#pools.values()) for (const pool of inner.values()) pool.retired = true;
  }

  #upChanged(pool: Pool, delta: 1 | -1): void {
    const before = pool.upCount;
    pool.upCount = before + delta;
    if (before === 0 || pool.upCount === 0) {
      this.#version++;
      this.#pairs = undefined;
    }
  }

  #count(health: Health, delta: 1 | -1): void {
    if (health === 'up') this.#up += delta;
    else if (health === 'down') this.#down += delta;
    else if (health === 'wrong') this.#wrong += delta;
    else this.#pending += delta;
  }
}

export function snapshot(entry: Entry): Registration {
  const registration: Registration = {
    pair: entry.pool.pair,
    endpoint: entry.endpoint,
    health: entry.health,
    addedAt: entry.addedAt,
    lastSeen: entry.lastSeen,
    healthSince: entry.healthSince,
    consecutiveFailures: entry.consecutiveFailures,
    consecutiveSuccesses: entry.consecutiveSuccesses,
    served: entry.served,
    lapsed: entry.lease?.lapsed ?? false,
    lapses: entry.lease?.lapses ?? 0,
  };
  if (entry.lastCheck !== undefined) registration.lastCheck = entry.lastCheck;
  if (entry.lease?.ms !== undefined) registration.leaseMs = entry.lease.ms;
  if (entry.lease?.expiresAt !== undefined) registration.leaseExpiresAt = entry.lease.expiresAt;
  return registration;
}

export function samePair(x: UnitPair, y: UnitPair): boolean {
  return x[0] === y[0] && x[1] === y[1];
}

function comparePairs(x: UnitPair, y: UnitPair): number {
  if (x[0] !== y[0]) return x[0] < y[0] ? -1 : 1;
  if (x[1] !== y[1]) return x[1] < y[1] ? -1 : 1;
  return 0;
}
