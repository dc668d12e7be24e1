import { type Endpoint, type UnitPair, keyOf, endpointOf, unitPair } from './endpoint';
import { LeaseMsSchema, MAX_LEASE_MS, MIN_LEASE_MS, quote } from '@conv/protocol';
import type { ChangeFeed, ChangeListener, RegistryChange } from './change-feed';
import { RegistryError } from './errors';
import type { HealthPolicy, ProbeVerdict } from './health';
import type { Pool } from './pool';
import { type Pools, type Registration, type RegistryCounts, type Transition, snapshot } from './pools';

/** `renewed`: the health change a renewal made (a lapsed lease renewed: `down` -> `pending`). */
export type AddOutcome = { ok: true; created: boolean; renewed?: Transition } | { ok: false; code: 'ENTRY_EXISTS'; existing: UnitPair };

/** How an ADD registers: the health a new entry starts with, and its lease (none: probed only). */
export type AddOptions = { health?: 'pending' | 'up'; leaseMs?: number | undefined };
export type RemoveOutcome = { ok: true; pair: UnitPair } | { ok: false; code: 'NOT_REGISTERED' };

/** A pair's pool, held by a caller so repeated `next()` calls skip the pair lookup. */
export interface PoolHandle {
  readonly pair: UnitPair;
  /** Same as `registry.next(pair)`. */
  next(): Endpoint | undefined;
  /** The pool's endpoints in pool order, whatever their health. */
  endpoints(): Endpoint[];
}

/**
 * How a watch starts: every registration with the number of the last change it reflects, or,
 * resuming, the changes after the watcher's position (every one of them, in order).
 */
export type WatchStart =
  | { kind: 'snapshot'; epoch: string; seq: number; registrations: Registration[] }
  | { kind: 'resumed'; epoch: string; seq: number; changes: RegistryChange[] };

/** A change to the registry: a value at once (a local store), or a promise of one (a shared store commits first). */
export type Settled<T> = T | Promise<T>;

/**
 * What every registry does the same way, local or shared: hand out endpoints in round robin,
 * read, and take probe verdicts, all from memory. How a change is made durable (`add`,
 * `remove`, `sweep`) is each kind's own; callers use the one shape, a value or a promise.
 */
export abstract class EndpointRegistry {
  readonly policy: HealthPolicy;
  protected readonly pools: Pools;
  protected readonly now: () => number;
  #closed = false;

  protected constructor(pools: Pools, policy: HealthPolicy, now: () => number) {
    this.pools = pools;
    this.policy = policy;
    this.now = now;
  }

  /** Registers `endpoint` for `pair`; durable once it settles. Re-adding the same pair refreshes it. */
  abstract add(pair: UnitPair, endpoint: Endpoint, options?: AddOptions): Settled<AddOutcome>;
  /** Removes an endpoint from its pool; durable once it settles. */
  abstract remove(endpoint: Endpoint): Settled<RemoveOutcome>;
  /** Removes what has been down or pending past its grace. */
  abstract sweep(): Transition[];
  /** Hands the store the `served` counts that changed since the last flush; returns how many. */
  abstract flushServed(): number;
  /** Closes the store. Idempotent; every other call afterwards throws `CLOSED`. */
  abstract close(): void;

  /** The journal of changes to the pools: epoch, numbers, history, listeners. */
  get changes(): ChangeFeed {
    return this.pools.changes;
  }

  /**
   * Starts a watch: resumes after `from` when this registry still holds every change since,
   * else a snapshot; `listener` then hears every later change. Both happen in one step, so no
   * change falls between them. Call the returned `stop` when the watcher leaves.
   */
  watch(listener: ChangeListener, from?: { epoch: string; seq: number }): { start: WatchStart; stop: () => void } {
    this.live();
    const feed = this.pools.changes;
    const missed = from === undefined ? undefined : feed.since(from.epoch, from.seq);
    const start: WatchStart =
      missed !== undefined && from !== undefined
        ? { kind: 'resumed', epoch: feed.epoch, seq: from.seq, changes: missed }
        : { kind: 'snapshot', epoch: feed.epoch, seq: feed.seq, registrations: this.pools.registrations() };
    return { start, stop: feed.subscribe(listener) };
  }

  /** Bumps exactly when the set returned by `pairs()` changes. */
  get version(): number {
    return this.pools.version;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** The next `up` endpoint of the pair's pool in round-robin order; undefined if none is up. */
  next(pair: UnitPair): Endpoint | undefined {
    if (this.#closed) throw closedError();
    return this.pools.pool(pair[0], pair[1])?.next()?.endpoint;
  }

  /**
   * The endpoint `next(pair)` would return now, without taking the turn: read-only, for status
   * pages that show the round-robin position. Undefined when no endpoint of the pair is up.
   */
  peekNext(pair: UnitPair): Endpoint | undefined {
    this.live();
    return this.pools.pool(pair[0], pair[1])?.peek()?.endpoint;
  }

  /** A handle on the pair's pool that stays valid while the pool empties and refills. */
  pool(pair: UnitPair): PoolHandle {
    this.live();
    const canonical = unitPair(pair[0], pair[1]);
    const lookup = (): Pool | undefined => {
      this.live();
      return this.pools.pool(canonical[0], canonical[1]);
    };
    let current = lookup();
    return {
      pair: canonical,
      next(): Endpoint | undefined {
        if (current === undefined || current.retired) current = lookup();
        return current?.next()?.endpoint;
      },
      endpoints(): Endpoint[] {
        if (current === undefined || current.retired) current = lookup();
        return current === undefined ? [] : current.members.map((entry) => entry.endpoint);
      },
    };
  }

  find(endpoint: Endpoint): Registration | undefined {
    this.live();
    const entry = this.pools.entry(keyOf(endpoint));
    return entry === undefined ? undefined : snapshot(entry);
  }

  /** Feeds one probe verdict (true = ok, false = failed) into the health state machine; returns the transition, if any. */
  recordProbe(endpoint: Endpoint, ok: boolean | ProbeVerdict): Transition | undefined {
    this.live();
    const entry = this.pools.entry(keyOf(endpoint));
    return entry === undefined ? undefined : this.pools.recordProbe(entry, ok, this.now(), this.policy);
  }

  /**
   * Lapses every lease this registry times that has run out: those entries are `down` at once.
   * Returns the transitions and when the next lease would lapse. A shared registry times none
   * (its store ends its leases, which removes the registration everywhere).
   */
  expireLeases(): { lapsed: Transition[]; nextAt: number | undefined } {
    this.live();
    return this.pools.expireLeases(this.now());
  }

  /** Whether the endpoint proves it lives by heartbeats (holds a lease): probes check it less urgently. */
  holdsLease(endpoint: Endpoint): boolean {
    return this.pools.entry(keyOf(endpoint))?.lease?.ms !== undefined;
  }

  /** A passive report (a proxy could not connect): `down` at once, from `up` or `pending`. */
  markDown(endpoint: Endpoint): Transition | undefined {
    this.live();
    const entry = this.pools.entry(keyOf(endpoint));
    if (entry === undefined) return undefined;
    entry.consecutiveFailures++;
    entry.consecutiveSuccesses = 0;
    return entry.health === 'down' ? undefined : this.pools.setHealth(entry, 'down', this.now());
  }

  /** Every registration: pools ordered by their oldest endpoint, endpoints in pool order. */
  registrations(): Registration[] {
    this.live();
    return this.pools.registrations();
  }

  counts(): RegistryCounts {
    this.live();
    return this.pools.counts();
  }

  /** Pairs with at least one `up` endpoint, sorted; the edges of the conversion graph. */
  pairs(): UnitPair[] {
    this.live();
    return this.pools.pairs();
  }

  protected live(): void {
    if (this.#closed) throw closedError();
  }

  /** Marks the registry closed and retires its pools; true the first time. */
  protected markClosed(): boolean {
    if (this.#closed) return false;
    this.#closed = true;
    this.pools.retire();
    return true;
  }
}

/** The canonical pair and endpoint of an ADD, and the health a new entry starts with. */
export function addArguments(pair: UnitPair, endpoint: Endpoint, options?: AddOptions): { pair: UnitPair; endpoint: Endpoint; key: string; health: 'pending' | 'up'; leaseMs: number | undefined } {
  const health = options?.health ?? 'pending';
  if (health !== 'pending' && health !== 'up') {
    throw new RegistryError('INVALID_OPTIONS', `Expected health 'pending' or 'up' for a new endpoint, received ${quote(health)}.`);
  }
  const leaseMs = options?.leaseMs;
  if (leaseMs !== undefined && !LeaseMsSchema.safeParse(leaseMs).success) {
    throw new RegistryError('INVALID_OPTIONS', `Expected a lease of ${MIN_LEASE_MS} to ${MAX_LEASE_MS} ms, received ${quote(leaseMs)}.`);
  }
  const canonical = endpointOf(endpoint.host, endpoint.port);
  return { pair: unitPair(pair[0], pair[1]), endpoint: canonical, key: keyOf(canonical), health, leaseMs };
}

export function closedError(): RegistryError {
  return new RegistryError('CLOSED', 'The registry was used after close().');
}
