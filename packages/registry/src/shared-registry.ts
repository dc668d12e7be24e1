import { keyOf, endpointOf, unitPair, type Endpoint, type UnitPair } from './endpoint';
import { EndpointRegistry, addArguments, type AddOptions, type AddOutcome, type RemoveOutcome } from './endpoint-registry';
import { RegistryError } from './errors';
import { validateHealthPolicy, type Health, type HealthPolicy } from './health';
import { Pools, samePair, type Transition } from './pools';
import { SharedFeed, keyOfChange } from './shared-feed';
import { revisionOf, type SharedChange, type SharedRecord, type SharedRegistryStore, type SharedSnapshot, type SharedSubscription } from './shared-store';

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
 * A registry shared with other registries (other discovery replicas) through a store such as
 * etcd: changes resolve once the store has committed them, and the store's change feed keeps
 * this replica's pools following it exactly (see shared-feed.ts). Reads and probe verdicts are
 * local to the replica, from memory.
 */
export class SharedRegistry extends EndpointRegistry {
  readonly #store: SharedRegistryStore;
  readonly #options: SharedRegistryOptions;
  #subscription: SharedSubscription | undefined;
  /** Which change to apply, key by key (revisions, writes in flight, held changes). */
  readonly #feed = new SharedFeed();

  private constructor(options: SharedRegistryOptions, policy: HealthPolicy, now: () => number) {
    super(new Pools(), policy, now);
    this.#store = options.store;
    this.#options = options;
  }

  /**
   * Opens a registry on a shared store: loads everything at one revision, in the store's order,
   * each endpoint `pending`, then follows the store's changes from that revision on.
   */
  static async open(options: SharedRegistryOptions): Promise<SharedRegistry> {
    const { store, now = Date.now } = options;
    if (typeof store !== 'object' || store === null || typeof store.watch !== 'function') {
      throw new RegistryError('INVALID_OPTIONS', 'Expected `store` to be a SharedRegistryStore.');
    }
    const registry = new SharedRegistry(options, validateHealthPolicy(options.policy), now);
    let snapshot: SharedSnapshot;
    try {
      snapshot = await store.load();
    } catch (cause) {
      throw unavailable('load the registry', cause);
    }
    const t = now();
    for (const record of snapshot.records) registry.#place(record, 'pending', t);
    registry.#feed.reset(snapshot.revision, revisionsOf(snapshot));
    try {
      await registry.#subscribe(snapshot.revision + 1);
    } catch (cause) {
      registry.close();
      throw unavailable('follow the registry', cause);
    }
    return registry;
  }

  /**
   * Resolves once the store has committed the registration (or refreshed its liveness); the
   * pools change from the committed result. Rejects with `UNAVAILABLE` when the store cannot be
   * reached.
   */
  async add(pair: UnitPair, endpoint: Endpoint, options?: AddOptions): Promise<AddOutcome> {
    this.live();
    const added = addArguments(pair, endpoint, options);
    const known = this.pools.entry(added.key);
    if (known !== undefined && !samePair(known.pool.pair, added.pair)) return { ok: false, code: 'ENTRY_EXISTS', existing: known.pool.pair };
    const t = this.now();
    this.#feed.beginWrite(added.key);
    try {
      let result;
      try {
        const lease = added.leaseMs === undefined ? {} : { leaseMs: added.leaseMs };
        result = await this.#store.put({ pair: added.pair, endpoint: added.endpoint, addedAt: t, ...lease });
      } catch (cause) {
        throw unavailable('commit the ADD', cause);
      }
      this.live();
      // The committed record is applied now, exactly as its echo from the watch will be (a no-op then).
      this.#applyPut(result.record, added.health);
      if (result.outcome === 'conflict') return { ok: false, code: 'ENTRY_EXISTS', existing: unitPair(result.record.pair[0], result.record.pair[1]) };
      const entry = this.pools.entry(added.key);
      if (entry !== undefined) entry.lastSeen = t;
      return { ok: true, created: result.outcome === 'created' };
    } finally {
      this.#endWrite(added.key);
    }
  }

  /** Resolves once the store has committed the delete. */
  async remove(endpoint: Endpoint): Promise<RemoveOutcome> {
    this.live();
    const key = keyOf(endpoint);
    const entry = this.pools.entry(key);
    if (entry === undefined) return { ok: false, code: 'NOT_REGISTERED' };
    const pair = entry.pool.pair;
    this.#feed.beginWrite(key);
    try {
      let result;
      try {
        result = await this.#store.delete(entry.endpoint);
      } catch (cause) {
        throw unavailable('commit the REMOVE', cause);
      }
      this.live();
      this.#applyDelete(key, result.revision);
      return { ok: true, pair };
    } finally {
      this.#endWrite(key);
    }
  }

  /**
   * Nothing: liveness is the store's (leases, which it ends by deleting the registration). A replica that cannot reach an endpoint must not
   * delete it for everyone; down endpoints are never handed out anyway.
   */
  sweep(): Transition[] {
    this.live();
    return [];
  }

  /** Counts are kept per replica, in memory only. */
  flushServed(): number {
    this.live();
    return 0;
  }

  /**
   * Applies one change committed in the shared store to the pools, without writing it back, as
   * the next change of the feed. Ignored: changes the feed already brought, and changes not
   * newer than what their own key reflects (our own writes, echoed by the watch). Held: changes
   * to a key while a write of ours to it is in flight (applied when it ends). New endpoints
   * start `pending`.
   */
  applyRemote(change: SharedChange): RemoteEffect | undefined {
    this.live();
    return this.#feed.receive(change) === 'apply' ? this.#apply(change) : undefined;
  }

  /**
   * Catches up after the change feed broke (the store was unreachable): reloads everything,
   * makes the pools match it (keeping the health and position of endpoints still there), and
   * follows changes again from the loaded revision. Rejects with `UNAVAILABLE` while the store
   * is still unreachable; call it again later.
   */
  async resync(): Promise<{ revision: number; effects: RemoteEffect[] }> {
    this.live();
    const previous = this.#subscription;
    this.#subscription = undefined;
    await previous?.close().catch(() => undefined);
    let snapshot: SharedSnapshot;
    try {
      snapshot = await this.#store.load();
    } catch (cause) {
      throw unavailable('reload the registry', cause);
    }
    this.live();
    const effects: RemoteEffect[] = [];
    const present = new Set<string>();
    const t = this.now();
    for (const record of snapshot.records) {
      const pair = unitPair(record.pair[0], record.pair[1]);
      const key = keyOf(endpointOf(record.endpoint.host, record.endpoint.port));
      present.add(key);
      const entry = this.pools.entry(key);
      if (entry !== undefined && entry.seq === record.order && samePair(entry.pool.pair, pair)) continue;
      if (entry !== undefined) {
        // Deleted and created again while we were not looking: a new registration in a new place.
        effects.push({ kind: 'removed', endpoint: entry.endpoint, pair: entry.pool.pair, from: entry.health });
        this.pools.detach(entry);
      }
      effects.push(this.#place(record, 'pending', t));
    }
    for (const entry of [...this.pools.entries()]) {
      if (present.has(entry.key)) continue;
      effects.push({ kind: 'removed', endpoint: entry.endpoint, pair: entry.pool.pair, from: entry.health });
      this.pools.detach(entry);
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

  /** Closes the store's feed and connections (awaited by whoever awaits `store.close()`). Idempotent. */
  close(): void {
    if (!this.markClosed()) return;
    const subscription = this.#subscription;
    this.#subscription = undefined;
    const store = this.#store;
    void (subscription?.close() ?? Promise.resolve()).catch(() => undefined).then(() => store.close()).catch(() => undefined);
  }

  /** After our write to `key`: the feed's changes to it, held meanwhile, in feed order. */
  #endWrite(key: string): void {
    for (const change of this.#feed.endWrite(key)) {
      if (this.closed) return;
      const effect = this.#feed.isNewer(keyOfChange(change), revisionOf(change)) ? this.#apply(change) : undefined;
      if (effect !== undefined) this.#options.onRemote?.(effect);
    }
  }

  async #subscribe(fromRevision: number): Promise<void> {
    let open = true;
    const subscription = await this.#store.watch(fromRevision, {
      change: (change) => {
        if (!open || this.closed) return;
        const effect = this.applyRemote(change);
        if (effect !== undefined) this.#options.onRemote?.(effect);
      },
      broken: (error) => {
        if (!open || this.closed) return;
        open = false;
        this.#options.onBroken?.(error);
      },
    });
    if (this.closed) {
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
    return change.kind === 'put' ? this.#applyPut(change.record, 'pending') : this.#applyDelete(keyOf(change.endpoint), change.revision);
  }

  /** A committed put, applied unless its key already reflects it or something newer. */
  #applyPut(record: SharedRecord, health: 'pending' | 'up'): RemoteEffect | undefined {
    const pair = unitPair(record.pair[0], record.pair[1]);
    const key = keyOf(endpointOf(record.endpoint.host, record.endpoint.port));
    if (!this.#feed.isNewer(key, record.revision)) return undefined;
    this.#feed.record(key, record.revision, true);
    const entry = this.pools.entry(key);
    if (entry !== undefined) {
      if (entry.seq === record.order && samePair(entry.pool.pair, pair)) {
        // The same registration, its lease taken, changed or dropped: the store times it, not us.
        if (entry.lease?.ms !== record.leaseMs) this.pools.renewLease(entry, record.leaseMs, this.now(), false);
        return undefined;
      }
      // Deleted and created again while we were not looking: a new registration in a new place.
      this.pools.detach(entry);
    }
    return this.#place(record, health, this.now());
  }

  /** A committed delete, applied unless its key already reflects something newer. */
  #applyDelete(key: string, revision: number): RemoteEffect | undefined {
    if (!this.#feed.isNewer(key, revision)) return undefined;
    this.#feed.record(key, revision, false);
    const entry = this.pools.entry(key);
    if (entry === undefined) return undefined;
    const effect: RemoteEffect = { kind: 'removed', endpoint: entry.endpoint, pair: entry.pool.pair, from: entry.health };
    this.pools.detach(entry);
    return effect;
  }

  /** Puts a stored record in its pool, in the store's order. */
  #place(record: SharedRecord, health: Health, t: number): RemoteEffect & { kind: 'added' } {
    const pair = unitPair(record.pair[0], record.pair[1]);
    const endpoint = endpointOf(record.endpoint.host, record.endpoint.port);
    this.pools.attach({ pair, endpoint, seq: record.order, addedAt: record.addedAt, lastSeen: t, health, since: t, leaseMs: record.leaseMs, timeLease: false });
    return { kind: 'added', endpoint, pair };
  }
}

function unavailable(what: string, cause: unknown): RegistryError {
  if (cause instanceof RegistryError && (cause.code === 'UNAVAILABLE' || cause.code === 'CLOSED')) return cause;
  const why = cause instanceof Error ? cause.message : String(cause);
  return new RegistryError('UNAVAILABLE', `The shared store could not ${what}: ${why}.`, { cause });
}

function revisionsOf(snapshot: SharedSnapshot): [string, number][] {
  return snapshot.records.map((record) => [keyOf(endpointOf(record.endpoint.host, record.endpoint.port)), record.revision]);
}
