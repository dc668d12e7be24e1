import { endpointKey, endpointOf, unitPair, type Endpoint, type UnitPair } from './endpoint';
import { RegistryError, quote } from './errors';
import { validateHealthPolicy, type Health, type HealthPolicy } from './health';
import { Entry, Pool } from './pool';
import { SqliteRegistryStore } from './sqlite-store';
import { MemoryRegistryStore, type RegistryStore, type StoredRegistration } from './store';
import { SharedFeed, keyOfChange } from './shared-feed';
import { revisionOf, type SharedChange, type SharedRecord, type SharedRegistryStore, type SharedSnapshot, type SharedSubscription } from './shared-store';

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
};

export type AddOutcome = { ok: true; created: boolean } | { ok: false; code: 'ENTRY_EXISTS'; existing: UnitPair };
export type RemoveOutcome = { ok: true; pair: UnitPair } | { ok: false; code: 'NOT_REGISTERED' };
export type Transition = { endpoint: Endpoint; pair: UnitPair; from: Health; to: Health | 'removed' };
export type RegistryCounts = { pools: number; endpoints: number; up: number; down: number; pending: number };

export type RegistryOptions = {
  /** A registry file, or ':memory:'. Give this or `store`, not both. */
  path?: string;
  /** Any store; the registry closes it on `close()`. */
  store?: RegistryStore;
  policy?: Partial<HealthPolicy>;
  /** The clock, in milliseconds; tests inject one to move time without sleeping. */
  now?: () => number;
};

/** A pair's pool, held by a caller so repeated `next()` calls skip the pair lookup. */
export interface PoolHandle {
  readonly pair: UnitPair;
  /** Same as `registry.next(pair)`. */
  next(): Endpoint | undefined;
  /** The pool's endpoints in pool order, whatever their health. */
  endpoints(): Endpoint[];
}

const OPTION_KEYS = new Set(['path', 'store', 'policy', 'now']);

export type SharedRegistryOptions = {
  store: SharedRegistryStore;
  policy?: Partial<HealthPolicy>;
  now?: () => number;
  /** Called for each change made by another registry (or expiry) once applied to the pools. */
  onRemote?: (effect: RemoteEffect) => void;
  /** The store's change feed stopped; call `resync()` (again, until it succeeds) to catch up. */
  onBroken?: (error: Error) => void;
};

/** What a change from the shared store did to this registry's pools. */
export type RemoteEffect =
  | { kind: 'added'; endpoint: Endpoint; pair: UnitPair }
  | { kind: 'removed'; endpoint: Endpoint; pair: UnitPair; from: Health };

/**
 * Round-robin pools of endpoints per unit pair, with health states, kept in memory and
 * written through a `RegistryStore`. Reads (`next`, `find`, listings) never touch the store.
 */
export class Registry {
  readonly policy: HealthPolicy;
  readonly #store: RegistryStore;
  readonly #now: () => number;
  readonly #byKey = new Map<string, Entry>();
  /** unit a -> unit b -> pool; two lookups, no key string built on the hot path. */
  readonly #pools = new Map<string, Map<string, Pool>>();
  #poolCount = 0;
  #up = 0;
  #down = 0;
  #pending = 0;
  #version = 0;
  #nextSeq = 1;
  #pairs: readonly UnitPair[] | undefined;
  #closed = false;
  /** Set for a registry opened with `openShared`; `#store` is then an unused memory store. */
  #shared: SharedRegistryStore | undefined;
  #sharedOptions: SharedRegistryOptions | undefined;
  #subscription: SharedSubscription | undefined;
  /** Shared mode: which change to apply, key by key (revisions, writes in flight, held changes). */
  readonly #feed = new SharedFeed();

  private constructor(store: RegistryStore, policy: HealthPolicy, now: () => number) {
    this.#store = store;
    this.policy = policy;
    this.#now = now;
  }

  /** Opens a registry: every stored registration is restored in order, each starting `pending`. */
  static open(options: RegistryOptions): Registry {
    if (typeof options !== 'object' || options === null) {
      throw new RegistryError('INVALID_OPTIONS', `Expected an options object, received ${quote(options)}.`);
    }
    for (const key of Object.keys(options)) {
      if (!OPTION_KEYS.has(key)) {
        throw new RegistryError('INVALID_OPTIONS', `Unknown option ${quote(key)}; expected one of ${[...OPTION_KEYS].join(', ')}.`);
      }
    }
    const { path, store, now = Date.now } = options;
    if ((path === undefined) === (store === undefined)) {
      throw new RegistryError('INVALID_OPTIONS', 'Expected exactly one of `path` and `store`.');
    }
    if (typeof now !== 'function') {
      throw new RegistryError('INVALID_OPTIONS', `Expected \`now\` to be a function, received ${quote(now)}.`);
    }
    const policy = validateHealthPolicy(options.policy);
    const opened = store ?? SqliteRegistryStore.open(path ?? '');
    const registry = new Registry(opened, policy, now);
    try {
      registry.#restore(opened.load());
    } catch (error) {
      if (store === undefined) opened.close();
      throw error;
    }
    return registry;
  }

  /** Bumps exactly when the set returned by `pairs()` changes. */
  get version(): number {
    return this.#version;
  }

  /**
   * Registers `endpoint` for `pair`, durably before returning. Re-adding an endpoint for the
   * same pair only refreshes `lastSeen` (no write) and keeps its health, `options` included.
   */
  add(pair: UnitPair, endpoint: Endpoint, options?: { health?: 'pending' | 'up' }): AddOutcome {
    this.#live();
    this.#localOnly('add');
    const canonicalPair = unitPair(pair[0], pair[1]);
    const canonical = endpointOf(endpoint.host, endpoint.port);
    const health = options?.health ?? 'pending';
    if (health !== 'pending' && health !== 'up') {
      throw new RegistryError('INVALID_OPTIONS', `Expected health 'pending' or 'up' for a new endpoint, received ${quote(health)}.`);
    }
    const key = endpointKey(canonical);
    const existing = this.#byKey.get(key);
    const t = this.#now();
    if (existing !== undefined) {
      const same = existing.pool.pair[0] === canonicalPair[0] && existing.pool.pair[1] === canonicalPair[1];
      if (!same) return { ok: false, code: 'ENTRY_EXISTS', existing: existing.pool.pair };
      existing.lastSeen = t;
      return { ok: true, created: false };
    }
    const seq = this.#nextSeq;
    this.#write(() => this.#store.put({ seq, pair: canonicalPair, endpoint: canonical, addedAt: t }));
    this.#nextSeq = seq + 1;
    this.#attach(canonicalPair, canonical, key, seq, t, t, health, t);
    return { ok: true, created: true };
  }

  /** Removes an endpoint from its pool, durably before returning. */
  remove(endpoint: Endpoint): RemoveOutcome {
    this.#live();
    this.#localOnly('remove');
    const entry = this.#byKey.get(endpointKey(endpoint));
    if (entry === undefined) return { ok: false, code: 'NOT_REGISTERED' };
    this.#write(() => this.#store.delete([entry.endpoint]));
    this.#detach(entry);
    return { ok: true, pair: entry.pool.pair };
  }

  /** The next `up` endpoint of the pair's pool in round-robin order; undefined if none is up. */
  next(pair: UnitPair): Endpoint | undefined {
    if (this.#closed) throw closedError();
    const pool = this.#pools.get(pair[0])?.get(pair[1]) ?? this.#pools.get(pair[1])?.get(pair[0]);
    return pool?.next()?.endpoint;
  }

  /**
   * The endpoint `next(pair)` would return now, without taking the turn: read-only, for status
   * pages that show the round-robin position. Undefined when no endpoint of the pair is up.
   */
  peekNext(pair: UnitPair): Endpoint | undefined {
    this.#live();
    const pool = this.#pools.get(pair[0])?.get(pair[1]) ?? this.#pools.get(pair[1])?.get(pair[0]);
    return pool?.peek()?.endpoint;
  }

  /** A handle on the pair's pool that stays valid while the pool empties and refills. */
  pool(pair: UnitPair): PoolHandle {
    this.#live();
    const canonicalPair = unitPair(pair[0], pair[1]);
    const lookup = (): Pool | undefined => {
      if (this.#closed) throw closedError();
      return this.#pools.get(canonicalPair[0])?.get(canonicalPair[1]);
    };
    let current = lookup();
    return {
      pair: canonicalPair,
      next(): Endpoint | undefined {
        let pool = current;
        if (pool === undefined || pool.retired) {
          pool = current = lookup();
          if (pool === undefined) return undefined;
        }
        return pool.next()?.endpoint;
      },
      endpoints(): Endpoint[] {
        if (current === undefined || current.retired) current = lookup();
        return current === undefined ? [] : current.members.map((entry) => entry.endpoint);
      },
    };
  }

  find(endpoint: Endpoint): Registration | undefined {
    this.#live();
    const entry = this.#byKey.get(endpointKey(endpoint));
    return entry === undefined ? undefined : snapshot(entry);
  }

  /** Feeds one probe result into the health state machine; returns the transition, if any. */
  recordProbe(endpoint: Endpoint, ok: boolean): Transition | undefined {
    this.#live();
    const entry = this.#byKey.get(endpointKey(endpoint));
    if (entry === undefined) return undefined;
    const t = this.#now();
    entry.lastCheck = t;
    if (ok) {
      entry.consecutiveSuccesses++;
      entry.consecutiveFailures = 0;
      entry.lastSeen = t;
      if (entry.health === 'pending') return this.#setHealth(entry, 'up', t);
      if (entry.health === 'down' && entry.consecutiveSuccesses >= this.policy.successesToUp) {
        return this.#setHealth(entry, 'up', t);
      }
    } else {
      entry.consecutiveFailures++;
      entry.consecutiveSuccesses = 0;
      if (entry.health === 'up' && entry.consecutiveFailures >= this.policy.failuresToDown) {
        return this.#setHealth(entry, 'down', t);
      }
    }
    return undefined;
  }

  /** A passive report (a proxy could not connect): `down` at once, from `up` or `pending`. */
  markDown(endpoint: Endpoint): Transition | undefined {
    this.#live();
    const entry = this.#byKey.get(endpointKey(endpoint));
    if (entry === undefined) return undefined;
    entry.consecutiveFailures++;
    entry.consecutiveSuccesses = 0;
    return entry.health === 'down' ? undefined : this.#setHealth(entry, 'down', this.#now());
  }

  /**
   * Removes, durably and in one store step, every endpoint `down` or `pending` for longer than
   * its grace period, counted from the later of its last health change and its last sighting.
   */
  sweep(): Transition[] {
    this.#live();
    // Shared: liveness is the store's (leases); a replica that cannot reach an endpoint must
    // not delete it for everyone. Down endpoints are never handed out anyway.
    if (this.#shared !== undefined) return [];
    const t = this.#now();
    const { downGraceMs, pendingGraceMs } = this.policy;
    const doomed: Entry[] = [];
    for (const entry of this.#byKey.values()) {
      if (entry.health === 'up') continue;
      const quiet = t - Math.max(entry.healthSince, entry.lastSeen);
      if (quiet > (entry.health === 'down' ? downGraceMs : pendingGraceMs)) doomed.push(entry);
    }
    if (doomed.length === 0) return [];
    this.#write(() => this.#store.delete(doomed.map((entry) => entry.endpoint)));
    return doomed.map((entry) => {
      this.#detach(entry);
      return { endpoint: entry.endpoint, pair: entry.pool.pair, from: entry.health, to: 'removed' };
    });
  }

  /**
   * Every registration: pools ordered by their oldest endpoint, endpoints in pool order.
   * Both orders derive from registration order alone, so a reopened registry lists the same.
   */
  registrations(): Registration[] {
    this.#live();
    const result: Registration[] = [];
    for (const pool of this.#orderedPools()) {
      for (const entry of pool.members) result.push(snapshot(entry));
    }
    return result;
  }

  counts(): RegistryCounts {
    this.#live();
    return { pools: this.#poolCount, endpoints: this.#byKey.size, up: this.#up, down: this.#down, pending: this.#pending };
  }

  /** Pairs with at least one `up` endpoint, sorted; the edges of the conversion graph. */
  pairs(): UnitPair[] {
    this.#live();
    if (this.#pairs === undefined) {
      const pairs: UnitPair[] = [];
      for (const inner of this.#pools.values()) {
        for (const pool of inner.values()) if (pool.upCount > 0) pairs.push(pool.pair);
      }
      pairs.sort(comparePairs);
      this.#pairs = pairs;
    }
    return [...this.#pairs];
  }

  /**
   * Opens a registry on a store shared with other registries (other discovery replicas): loads
   * everything at one revision, in the store's order, each endpoint `pending`, then follows the
   * store's changes from that revision on, applying them with `applyRemote`.
   */
  static async openShared(options: SharedRegistryOptions): Promise<Registry> {
    const { store, now = Date.now } = options;
    if (typeof store !== 'object' || store === null || typeof store.watch !== 'function') {
      throw new RegistryError('INVALID_OPTIONS', 'Expected `store` to be a SharedRegistryStore.');
    }
    const registry = new Registry(new MemoryRegistryStore(), validateHealthPolicy(options.policy), now);
    registry.#shared = store;
    registry.#sharedOptions = options;
    let snapshot: SharedSnapshot;
    try {
      snapshot = await store.load();
    } catch (cause) {
      throw unavailable('load the registry', cause);
    }
    registry.#restore(snapshot.records.map((record) => ({ seq: record.order, pair: record.pair, endpoint: record.endpoint, addedAt: record.addedAt })));
    registry.#feed.reset(snapshot.revision, revisionsOf(snapshot));
    try {
      await registry.#subscribe(snapshot.revision + 1);
    } catch (cause) {
      registry.close();
      throw unavailable('follow the registry', cause);
    }
    return registry;
  }

  /** True for a registry opened with `openShared`: change it with `addShared` / `removeShared`. */
  get shared(): boolean {
    return this.#shared !== undefined;
  }

  /**
   * `add`, for a shared registry: resolves once the store has committed the registration (or
   * refreshed its liveness); the pools change from the committed result. A local registry
   * simply does `add`. Rejects with `UNAVAILABLE` when the store cannot be reached.
   */
  async addShared(pair: UnitPair, endpoint: Endpoint, options?: { health?: 'pending' | 'up' }): Promise<AddOutcome> {
    this.#live();
    const shared = this.#shared;
    if (shared === undefined) return this.add(pair, endpoint, options);
    const canonicalPair = unitPair(pair[0], pair[1]);
    const canonical = endpointOf(endpoint.host, endpoint.port);
    const health = options?.health ?? 'pending';
    if (health !== 'pending' && health !== 'up') {
      throw new RegistryError('INVALID_OPTIONS', `Expected health 'pending' or 'up' for a new endpoint, received ${quote(health)}.`);
    }
    const key = endpointKey(canonical);
    const known = this.#byKey.get(key);
    if (known !== undefined && !samePair(known.pool.pair, canonicalPair)) return { ok: false, code: 'ENTRY_EXISTS', existing: known.pool.pair };
    const t = this.#now();
    this.#feed.beginWrite(key);
    try {
      let result;
      try {
        result = await shared.put({ pair: canonicalPair, endpoint: canonical, addedAt: t });
      } catch (cause) {
        throw unavailable('commit the ADD', cause);
      }
      this.#live();
      // The committed record is applied now, exactly as its echo from the watch will be (a no-op then).
      this.#applyPut(result.record, health);
      if (result.outcome === 'conflict') return { ok: false, code: 'ENTRY_EXISTS', existing: unitPair(result.record.pair[0], result.record.pair[1]) };
      const entry = this.#byKey.get(key);
      if (entry !== undefined) entry.lastSeen = t;
      return { ok: true, created: result.outcome === 'created' };
    } finally {
      this.#endWrite(key);
    }
  }

  /** `remove`, for a shared registry: resolves once the store has committed the delete. */
  async removeShared(endpoint: Endpoint): Promise<RemoveOutcome> {
    this.#live();
    const shared = this.#shared;
    if (shared === undefined) return this.remove(endpoint);
    const key = endpointKey(endpoint);
    const entry = this.#byKey.get(key);
    if (entry === undefined) return { ok: false, code: 'NOT_REGISTERED' };
    const pair = entry.pool.pair;
    this.#feed.beginWrite(key);
    try {
      let result;
      try {
        result = await shared.delete(entry.endpoint);
      } catch (cause) {
        throw unavailable('commit the REMOVE', cause);
      }
      this.#live();
      this.#applyDelete(key, result.revision);
      return { ok: true, pair };
    } finally {
      this.#endWrite(key);
    }
  }

  /** After our write to `key`: the feed's changes to it, held meanwhile, in feed order. */
  #endWrite(key: string): void {
    for (const change of this.#feed.endWrite(key)) {
      if (this.#closed) return;
      const effect = this.#feed.isNewer(keyOfChange(change), revisionOf(change)) ? this.#apply(change) : undefined;
      if (effect !== undefined) this.#sharedOptions?.onRemote?.(effect);
    }
  }

  /** A change from the watch, reported to `onRemote` once applied. */
  #receive(change: SharedChange): void {
    if (this.#closed) return;
    const effect = this.applyRemote(change);
    if (effect !== undefined) this.#sharedOptions?.onRemote?.(effect);
  }

  /**
   * Applies one change committed in the shared store to the pools, without writing it back, as
   * the next change of the feed. Ignored: changes the feed already brought, and changes not
   * newer than what their own key reflects (our own writes, echoed by the watch). Held: changes
   * to a key while a write of ours to it is in flight (applied when it ends). New endpoints
   * start `pending`.
   */
  applyRemote(change: SharedChange): RemoteEffect | undefined {
    this.#live();
    return this.#feed.receive(change) === 'apply' ? this.#apply(change) : undefined;
  }

  /**
   * Catches up after the change feed broke (the store was unreachable): reloads everything,
   * makes the pools match it (keeping the health and position of endpoints still there), and
   * follows changes again from the loaded revision. Rejects with `UNAVAILABLE` while the store
   * is still unreachable; call it again later.
   */
  async resync(): Promise<{ revision: number; effects: RemoteEffect[] }> {
    this.#live();
    const shared = this.#shared;
    if (shared === undefined) return { revision: 0, effects: [] };
    const previous = this.#subscription;
    this.#subscription = undefined;
    await previous?.close().catch(() => undefined);
    let snapshot: SharedSnapshot;
    try {
      snapshot = await shared.load();
    } catch (cause) {
      throw unavailable('reload the registry', cause);
    }
    this.#live();
    const effects: RemoteEffect[] = [];
    const present = new Set<string>();
    for (const record of snapshot.records) {
      const pair = unitPair(record.pair[0], record.pair[1]);
      const endpoint = endpointOf(record.endpoint.host, record.endpoint.port);
      const key = endpointKey(endpoint);
      present.add(key);
      const entry = this.#byKey.get(key);
      if (entry !== undefined && entry.seq === record.order && samePair(entry.pool.pair, pair)) continue;
      if (entry !== undefined) {
        // Deleted and created again while we were not looking: a new registration in a new place.
        effects.push({ kind: 'removed', endpoint: entry.endpoint, pair: entry.pool.pair, from: entry.health });
        this.#detach(entry);
      }
      const t = this.#now();
      this.#attach(pair, endpoint, key, record.order, record.addedAt, t, 'pending', t);
      effects.push({ kind: 'added', endpoint, pair });
    }
    for (const entry of [...this.#byKey.values()]) {
      if (present.has(entry.key)) continue;
      effects.push({ kind: 'removed', endpoint: entry.endpoint, pair: entry.pool.pair, from: entry.health });
      this.#detach(entry);
    }
    // Revisions restart from the load: the store may even be a new one, whose revisions are lower.
    this.#feed.reset(snapshot.revision, revisionsOf(snapshot));
    try {
      await this.#subscribe(snapshot.revision + 1);
    } catch (cause) {
      throw unavailable('follow the registry', cause);
    }
    return { revision: snapshot.revision, effects };
  }

  async #subscribe(fromRevision: number): Promise<void> {
    const shared = this.#shared;
    const options = this.#sharedOptions;
    if (shared === undefined || options === undefined) return;
    let open = true;
    const subscription = await shared.watch(fromRevision, {
      change: (change) => {
        if (!open || this.#closed) return;
        this.#receive(change);
      },
      broken: (error) => {
        if (!open || this.#closed) return;
        open = false;
        options.onBroken?.(error);
      },
    });
    if (this.#closed) {
      await subscription.close();
      return;
    }
    this.#subscription = {
      close: () => {
        open = false;
        return subscription.close();
      },
    };
  }

  #apply(change: SharedChange): RemoteEffect | undefined {
    return change.kind === 'put' ? this.#applyPut(change.record, 'pending') : this.#applyDelete(endpointKey(change.endpoint), change.revision);
  }

  /** A committed put, applied unless its key already reflects it or something newer. */
  #applyPut(record: SharedRecord, health: 'pending' | 'up'): RemoteEffect | undefined {
    const pair = unitPair(record.pair[0], record.pair[1]);
    const endpoint = endpointOf(record.endpoint.host, record.endpoint.port);
    const key = endpointKey(endpoint);
    if (!this.#feed.isNewer(key, record.revision)) return undefined;
    this.#feed.record(key, record.revision, true);
    const entry = this.#byKey.get(key);
    if (entry !== undefined) {
      if (entry.seq === record.order && samePair(entry.pool.pair, pair)) return undefined;
      // Deleted and created again while we were not looking: a new registration in a new place.
      this.#detach(entry);
    }
    const t = this.#now();
    this.#attach(pair, endpoint, key, record.order, record.addedAt, t, health, t);
    if (record.order >= this.#nextSeq) this.#nextSeq = record.order + 1;
    return { kind: 'added', endpoint, pair };
  }

  /** A committed delete, applied unless its key already reflects something newer. */
  #applyDelete(key: string, revision: number): RemoteEffect | undefined {
    if (!this.#feed.isNewer(key, revision)) return undefined;
    this.#feed.record(key, revision, false);
    const entry = this.#byKey.get(key);
    if (entry === undefined) return undefined;
    const effect: RemoteEffect = { kind: 'removed', endpoint: entry.endpoint, pair: entry.pool.pair, from: entry.health };
    this.#detach(entry);
    return effect;
  }

  /**
   * Hands the store the `served` counts that changed since the last flush, in one write; returns
   * how many. Call it now and then (discovery does every few seconds), never per request: a
   * process killed with SIGKILL loses the counts since the last flush, nothing else. A shared
   * registry keeps its counts per replica, in memory only (0 here).
   */
  flushServed(): number {
    this.#live();
    const store = this.#store;
    if (this.#shared !== undefined || store.saveServed === undefined) return 0;
    const changed: Entry[] = [];
    for (const entry of this.#byKey.values()) if (entry.served !== entry.flushedServed) changed.push(entry);
    if (changed.length === 0) return 0;
    this.#write(() => store.saveServed?.(changed.map((entry) => ({ seq: entry.seq, served: entry.served }))));
    for (const entry of changed) entry.flushedServed = entry.served;
    return changed.length;
  }

  /**
   * Flushes the `served` counts (best effort: they are statistics, and a failed write must not
   * keep the store open), then closes the store (also one passed in). Idempotent; every other
   * call afterwards throws `CLOSED`.
   */
  close(): void {
    if (this.#closed) return;
    try {
      this.flushServed();
    } catch {
      // The counts since the last flush are lost; registrations were durable already.
    }
    this.#closed = true;
    for (const inner of this.#pools.values()) for (const pool of inner.values()) pool.retired = true;
    this.#store.close();
    if (this.#shared !== undefined) {
      const subscription = this.#subscription;
      this.#subscription = undefined;
      const shared = this.#shared;
      // Callers that must wait for the connections to close await `store.close()` themselves.
      void (subscription?.close() ?? Promise.resolve()).catch(() => undefined).then(() => shared.close()).catch(() => undefined);
    }
  }

  #restore(records: readonly StoredRegistration[]): void {
    const t = this.#now();
    let last = 0;
    for (const record of records) {
      const pair = unitPair(record.pair[0], record.pair[1]);
      const endpoint = endpointOf(record.endpoint.host, record.endpoint.port);
      const key = endpointKey(endpoint);
      if (record.seq <= last || this.#byKey.has(key)) {
        throw new RegistryError('CORRUPT', `The store returned ${key} out of order or twice (seq ${record.seq}).`);
      }
      last = record.seq;
      // Restored endpoints are unproven: nothing is handed out before a probe says it is up.
      const entry = this.#attach(pair, endpoint, key, record.seq, record.addedAt, record.addedAt, 'pending', t);
      entry.served = entry.flushedServed = record.served ?? 0;
    }
    this.#nextSeq = last + 1;
  }

  #attach(pair: UnitPair, endpoint: Endpoint, key: string, seq: number, addedAt: number, lastSeen: number, health: Health, since: number): Entry {
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
    const entry = new Entry(seq, pool, endpoint, key, addedAt, lastSeen, health, since);
    pool.append(entry);
    this.#byKey.set(key, entry);
    this.#count(health, 1);
    if (health === 'up') this.#upChanged(pool, 1);
    return entry;
  }

  #detach(entry: Entry): void {
    const pool = entry.pool;
    if (entry.health === 'up') this.#upChanged(pool, -1);
    this.#count(entry.health, -1);
    pool.remove(entry);
    this.#byKey.delete(entry.key);
    if (pool.members.length === 0) {
      pool.retired = true;
      const inner = this.#pools.get(pool.pair[0]);
      inner?.delete(pool.pair[1]);
      if (inner?.size === 0) this.#pools.delete(pool.pair[0]);
      this.#poolCount--;
    }
  }

  #setHealth(entry: Entry, to: Health, t: number): Transition {
    const from = entry.health;
    this.#count(from, -1);
    this.#count(to, 1);
    if (from === 'up') this.#upChanged(entry.pool, -1);
    if (to === 'up') this.#upChanged(entry.pool, 1);
    entry.health = to;
    entry.healthSince = t;
    return { endpoint: entry.endpoint, pair: entry.pool.pair, from, to };
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
    switch (health) {
      case 'up':
        this.#up += delta;
        break;
      case 'down':
        this.#down += delta;
        break;
      case 'pending':
        this.#pending += delta;
        break;
    }
  }

  #orderedPools(): Pool[] {
    const pools: Pool[] = [];
    for (const inner of this.#pools.values()) for (const pool of inner.values()) pools.push(pool);
    return pools.sort((x, y) => (x.members[0]?.seq ?? 0) - (y.members[0]?.seq ?? 0));
  }

  #write(action: () => void): void {
    try {
      action();
    } catch (cause) {
      if (cause instanceof RegistryError && cause.code === 'STORE_FAILED') throw cause;
      throw new RegistryError('STORE_FAILED', `The store refused a write: ${cause instanceof Error ? cause.message : String(cause)}.`, { cause });
    }
  }

  #live(): void {
    if (this.#closed) throw closedError();
  }

  #localOnly(verb: string): void {
    if (this.#shared !== undefined) {
      throw new RegistryError('INVALID_OPTIONS', `This registry is shared; use ${verb}Shared(), which waits for the store to commit.`);
    }
  }
}

function unavailable(what: string, cause: unknown): RegistryError {
  if (cause instanceof RegistryError && (cause.code === 'UNAVAILABLE' || cause.code === 'CLOSED')) return cause;
  const why = cause instanceof Error ? cause.message : String(cause);
  return new RegistryError('UNAVAILABLE', `The shared store could not ${what}: ${why}.`, { cause });
}

function revisionsOf(snapshot: SharedSnapshot): [string, number][] {
  return snapshot.records.map((record) => [endpointKey(endpointOf(record.endpoint.host, record.endpoint.port)), record.revision]);
}

function samePair(x: UnitPair, y: UnitPair): boolean {
  return x[0] === y[0] && x[1] === y[1];
}

function closedError(): RegistryError {
  return new RegistryError('CLOSED', 'The registry was used after close().');
}

function snapshot(entry: Entry): Registration {
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
  };
  if (entry.lastCheck !== undefined) registration.lastCheck = entry.lastCheck;
  return registration;
}

function comparePairs(x: UnitPair, y: UnitPair): number {
  if (x[0] !== y[0]) return x[0] < y[0] ? -1 : 1;
  if (x[1] !== y[1]) return x[1] < y[1] ? -1 : 1;
  return 0;
}
