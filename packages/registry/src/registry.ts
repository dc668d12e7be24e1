import { keyOf, endpointOf, unitPair, type Endpoint, type UnitPair } from './endpoint';
import { EndpointRegistry, addArguments, type AddOptions, type AddOutcome, type RemoveOutcome } from './endpoint-registry';
import { quote } from '@conv/protocol';
import { RegistryError } from './errors';
import { validateHealthPolicy, type HealthPolicy } from './health';
import type { Entry } from './pool';
import { Pools, samePair, type Transition } from './pools';
import { SqliteRegistryStore } from './sqlite-store';
import type { RegistryStore, StoredRegistration } from './store';

export type RegistryOptions = {
  /** A registry file, or ':memory:'. Give this or `store`, not both. */
  path?: string;
  /** Any store; the registry closes it on `close()`. */
  store?: RegistryStore;
  policy?: Partial<HealthPolicy>;
  /** The clock, in milliseconds; tests inject one to move time without sleeping. */
  now?: () => number;
};

const OPTION_KEYS = new Set(['path', 'store', 'policy', 'now']);

/**
 * The local registry: round-robin pools of endpoints per unit pair, with health states, kept in
 * memory and written through a `RegistryStore` (a SQLite file, or memory) before each change
 * returns. Reads (`next`, `find`, listings) never touch the store.
 */
export class Registry extends EndpointRegistry {
  readonly #store: RegistryStore;
  #nextSeq = 1;

  private constructor(store: RegistryStore, policy: HealthPolicy, now: () => number) {
    super(new Pools(), policy, now);
    this.#store = store;
  }

  /**
   * Opens a registry: every stored registration is restored in order, each starting `pending`;
   * a leased one starts a fresh lease (its converter, alive, renews it within one lease).
   */
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

  /**
   * Registers `endpoint` for `pair`, durably before returning. Re-adding an endpoint for the
   * same pair refreshes `lastSeen` and renews its lease (or takes the lease, or drops it: the
   * latest ADD decides), and keeps its health unless a lapsed lease is renewed (`pending`
   * again). It writes only when the lease's length changes.
   */
  add(pair: UnitPair, endpoint: Endpoint, options?: AddOptions): AddOutcome {
    this.live();
    const added = addArguments(pair, endpoint, options);
    const existing = this.pools.entry(added.key);
    const t = this.now();
    if (existing !== undefined) {
      if (!samePair(existing.pool.pair, added.pair)) return { ok: false, code: 'ENTRY_EXISTS', existing: existing.pool.pair };
      if (existing.lease?.ms !== added.leaseMs) {
        const { seq, addedAt, served } = existing;
        this.#write(() => this.#store.put({ seq, pair: added.pair, endpoint: existing.endpoint, addedAt, served, ...lease(added.leaseMs) }));
      }
      existing.lastSeen = t;
      const renewed = this.pools.renewLease(existing, added.leaseMs, t, true);
      return renewed === undefined ? { ok: true, created: false } : { ok: true, created: false, renewed };
    }
    const seq = this.#nextSeq;
    this.#write(() => this.#store.put({ seq, pair: added.pair, endpoint: added.endpoint, addedAt: t, ...lease(added.leaseMs) }));
    this.#nextSeq = seq + 1;
    this.pools.attach({ pair: added.pair, endpoint: added.endpoint, seq, health: added.health, since: t, leaseMs: added.leaseMs, timeLease: true });
    return { ok: true, created: true };
  }

  /** Removes an endpoint from its pool, durably before returning. */
  remove(endpoint: Endpoint): RemoveOutcome {
    this.live();
    const entry = this.pools.entry(keyOf(endpoint));
    if (entry === undefined) return { ok: false, code: 'NOT_REGISTERED' };
    this.#write(() => this.#store.delete([entry.endpoint]));
    this.pools.detach(entry);
    return { ok: true, pair: entry.pool.pair };
  }

  /**
   * Removes, durably and in one store step, every endpoint `down` or `pending` for longer than
   * its grace period, counted from the later of its last health change and its last sighting.
   */
  sweep(): Transition[] {
    this.live();
    const doomed = this.pools.overdue(this.now(), this.policy);
    if (doomed.length === 0) return [];
    this.#write(() => this.#store.delete(doomed.map((entry) => entry.endpoint)));
    return doomed.map((entry) => {
      this.pools.detach(entry);
      return { endpoint: entry.endpoint, pair: entry.pool.pair, from: entry.health, to: 'removed' };
    });
  }

  /**
   * Hands the store the `served` counts that changed since the last flush, in one write; returns
   * how many. Call it now and then (discovery does every few seconds), never per request: a
   * process killed with SIGKILL loses the counts since the last flush, nothing else.
   */
  flushServed(): number {
    this.live();
    const store = this.#store;
    if (store.saveServed === undefined) return 0;
    const changed: Entry[] = [];
    for (const entry of this.pools.entries()) if (entry.served !== entry.flushedServed) changed.push(entry);
    if (changed.length === 0) return 0;
    this.#write(() => store.saveServed?.(changed.map((entry) => ({ seq: entry.seq, served: entry.served }))));
    for (const entry of changed) entry.flushedServed = entry.served;
    return changed.length;
  }

  /**
   * Flushes the `served` counts (best effort: they are statistics, and a failed write must not
   * keep the store open), then closes the store (also one passed in). Idempotent.
   */
  close(): void {
    if (this.closed) return;
    try {
      this.flushServed();
    } catch {
      // The counts since the last flush are lost; registrations were durable already.
    }
    this.markClosed();
    this.#store.close();
  }

  #restore(records: readonly StoredRegistration[]): void {
    const t = this.now();
    let last = 0;
    for (const record of records) {
      const pair = unitPair(record.pair[0], record.pair[1]);
      const endpoint = endpointOf(record.endpoint.host, record.endpoint.port);
      const key = keyOf(endpoint);
      if (record.seq <= last || this.pools.entry(key) !== undefined) {
        throw new RegistryError('CORRUPT', `The store returned ${key} out of order or twice (seq ${record.seq}).`);
      }
      last = record.seq;
      // Restored endpoints are unproven: nothing is handed out before a probe says it is up.
      const entry = this.pools.attach({ pair, endpoint, key, seq: record.seq, addedAt: record.addedAt, health: 'pending', since: t, leaseMs: record.leaseMs, timeLease: true, restored: true });
      entry.served = entry.flushedServed = record.served ?? 0;
    }
    this.#nextSeq = last + 1;
  }

  #write(action: () => void): void {
    try {
      action();
    } catch (cause) {
      if (cause instanceof RegistryError && cause.code === 'STORE_FAILED') throw cause;
      throw new RegistryError('STORE_FAILED', `The store refused a write: ${cause instanceof Error ? cause.message : String(cause)}.`, { cause });
    }
  }
}

/** The lease field of a stored registration: present only for a leased one. */
function lease(leaseMs: number | undefined): { leaseMs?: number } {
  return leaseMs === undefined ? {} : { leaseMs };
}
