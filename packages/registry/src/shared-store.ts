import { keyOf, type Endpoint, type UnitPair } from './endpoint';

/**
 * One registration as a shared store holds it. `order` is its place in pool order and is the
 * same for every reader of the store (etcd: the key's create_revision); `revision` is the
 * store revision of its last change (etcd: mod_revision).
 */
export type SharedRecord = {
  readonly pair: UnitPair;
  readonly endpoint: Endpoint;
  readonly addedAt: number;
  readonly order: number;
  readonly revision: number;
  /** Its lease's length; the store ends the registration when no ADD renews it in time. Absent: no lease. */
  readonly leaseMs?: number;
};

/** Everything in the store at one revision; records in ascending `order`. */
export type SharedSnapshot = { readonly records: readonly SharedRecord[]; readonly revision: number };

/** A committed change, as a watch delivers it (changes made through this handle included). */
export type SharedChange =
  | { readonly kind: 'put'; readonly record: SharedRecord }
  | { readonly kind: 'delete'; readonly endpoint: Endpoint; readonly revision: number };

/**
 * The result of `put`, once committed: a new record, the lease of an existing one for the
 * same pair refreshed (or taken, changed or dropped as the put asks: a new revision then, same
 * order), or a conflict (the endpoint is registered for another pair; unchanged).
 */
export type SharedPutResult =
  | { readonly outcome: 'created' | 'refreshed'; readonly record: SharedRecord }
  | { readonly outcome: 'conflict'; readonly record: SharedRecord };

/** `deleted` is false when the endpoint was not in the store; `revision` is the store's after the call. */
export type SharedDeleteResult = { readonly deleted: boolean; readonly revision: number };

export type SharedRegistration = { readonly pair: UnitPair; readonly endpoint: Endpoint; readonly addedAt: number; readonly leaseMs?: number };

export interface SharedWatcher {
  /** One committed change, in revision order. */
  change(change: SharedChange): void;
  /** The subscription stopped (store unreachable, history compacted): nothing more will come. */
  broken(error: Error): void;
}

export interface SharedSubscription {
  close(): Promise<void>;
}

/**
 * A store that several registries (in several processes) share. Every method is asynchronous
 * and opens whatever it needs; a write resolves only once the store has durably committed it,
 * and rejects (any Error) when it could not: then nothing was changed, unless the store
 * committed it and the answer was lost, which a store may not be able to rule out.
 */
export interface SharedRegistryStore {
  /** For banners and logs: `etcd://127.0.0.1:2379`, `memory`. */
  readonly description: string;
  load(): Promise<SharedSnapshot>;
  /**
   * Creates the registration, or refreshes its liveness if it exists for the same pair. With
   * `leaseMs` it lives while puts renew it within that long; without, it stays until deleted.
   */
  put(registration: SharedRegistration): Promise<SharedPutResult>;
  delete(endpoint: Endpoint): Promise<SharedDeleteResult>;
  /** Delivers every change with a revision >= `fromRevision`, then each new one, in order. */
  watch(fromRevision: number, watcher: SharedWatcher): Promise<SharedSubscription>;
  /** Idempotent: cancels subscriptions and releases connections. */
  close(): Promise<void>;
}

type Space = {
  revision: number;
  /** Changes before this revision are forgotten (`compact`); a watch from before it breaks. */
  compacted: number;
  records: Map<string, SharedRecord>;
  history: SharedChange[];
  watchers: Set<MemoryWatch>;
  available: boolean;
};

/** `behind`: revisions published to this watch and not delivered yet. */
type MemoryWatch = { readonly watcher: SharedWatcher; open: boolean; behind: number[] };

/**
 * A shared store in one process: several handles (`peer()`) on one space, as several
 * discovery replicas on one etcd. Changes are delivered to watchers asynchronously, as a
 * network store would. `setAvailable(false)` makes every call reject and breaks every
 * subscription, so that outages can be tested without a network; `holdAnswers()` delays this
 * handle's answers, as a slow network does. Registrations never expire (leases are recorded, not timed).
 */
export class MemorySharedRegistryStore implements SharedRegistryStore {
  readonly description = 'memory';
  readonly #space: Space;
  readonly #watches = new Set<MemoryWatch>();
  #closed = false;
  /** Set while `holdAnswers()` holds this handle's answers: every write's answer waits for it. */
  #answers: Promise<'answer' | 'lose'> | undefined;

  constructor(space?: Space) {
    this.#space = space ?? { revision: 1, compacted: 0, records: new Map(), history: [], watchers: new Set(), available: true };
  }

  /** Another handle on the same space, as a second replica would have. */
  peer(): MemorySharedRegistryStore {
    return new MemorySharedRegistryStore(this.#space);
  }

  /** Simulates the store going away (every call rejects, subscriptions break) and coming back. */
  setAvailable(available: boolean): void {
    this.#space.available = available;
    if (available) return;
    for (const watch of [...this.#space.watchers]) {
      this.#space.watchers.delete(watch);
      if (!watch.open) continue;
      watch.open = false;
      queueMicrotask(() => watch.watcher.broken(new Error('the memory store is unavailable')));
    }
  }

  /**
   * Simulates a slow network between this handle and the store: from now on its writes still
   * commit at once (and reach every watcher), but their answers are held until `release()`;
   * `release({ lose: true })` rejects them instead, as a deadline does when the answer is lost.
   */
  holdAnswers(): { release(options?: { lose?: boolean }): void } {
    let release: (verdict: 'answer' | 'lose') => void = () => undefined;
    const answers = new Promise<'answer' | 'lose'>((resolve) => (release = resolve));
    this.#answers = answers;
    return {
      release: (options) => {
        if (this.#answers === answers) this.#answers = undefined;
        release(options?.lose === true ? 'lose' : 'answer');
      },
    };
  }

  /**
   * Forgets the history before `revision`, as etcd's compaction does: a watch from before it,
   * or one still behind it (changes not delivered yet), breaks.
   */
  compact(revision: number): void {
    const compacted = Math.max(this.#space.compacted, Math.min(revision, this.#space.revision));
    this.#space.compacted = compacted;
    this.#space.history = this.#space.history.filter((change) => revisionOf(change) >= compacted);
    for (const watch of [...this.#space.watchers]) {
      if (!watch.open || !watch.behind.some((behind) => behind < compacted)) continue;
      this.#space.watchers.delete(watch);
      watch.open = false;
      queueMicrotask(() => watch.watcher.broken(new Error(`the watch fell behind revision ${compacted}, which has been compacted`)));
    }
  }

  load(): Promise<SharedSnapshot> {
    return this.#call(() => ({
      records: [...this.#space.records.values()].sort((x, y) => x.order - y.order),
      revision: this.#space.revision,
    }));
  }

  put(registration: SharedRegistration): Promise<SharedPutResult> {
    return this.#write(() => {
      const key = keyOf(registration.endpoint);
      const existing = this.#space.records.get(key);
      if (existing !== undefined) {
        const same = existing.pair[0] === registration.pair[0] && existing.pair[1] === registration.pair[1];
        if (!same || existing.leaseMs === registration.leaseMs) return { outcome: same ? 'refreshed' : 'conflict', record: existing };
        const lease = registration.leaseMs === undefined ? {} : { leaseMs: registration.leaseMs };
        const changed: SharedRecord = { pair: existing.pair, endpoint: existing.endpoint, addedAt: existing.addedAt, order: existing.order, revision: ++this.#space.revision, ...lease };
        this.#space.records.set(key, changed);
        this.#publish({ kind: 'put', record: changed });
        return { outcome: 'refreshed', record: changed };
      }
      const revision = ++this.#space.revision;
      const record: SharedRecord = { ...registration, order: revision, revision };
      this.#space.records.set(key, record);
      this.#publish({ kind: 'put', record });
      return { outcome: 'created', record };
    });
  }

  delete(endpoint: Endpoint): Promise<SharedDeleteResult> {
    return this.#write(() => {
      const key = keyOf(endpoint);
      const existing = this.#space.records.get(key);
      if (existing === undefined) return { deleted: false, revision: this.#space.revision };
      const revision = ++this.#space.revision;
      this.#space.records.delete(key);
      this.#publish({ kind: 'delete', endpoint: existing.endpoint, revision });
      return { deleted: true, revision };
    });
  }

  watch(fromRevision: number, watcher: SharedWatcher): Promise<SharedSubscription> {
    return this.#call(() => {
      const watch: MemoryWatch = { watcher, open: true, behind: [] };
      const compacted = fromRevision < this.#space.compacted;
      const backlog = this.#space.history.filter((change) => revisionOf(change) >= fromRevision);
      this.#space.watchers.add(watch);
      this.#watches.add(watch);
      queueMicrotask(() => {
        if (compacted) {
          // As etcd does: the watch is created, then cancelled, delivering nothing.
          this.#space.watchers.delete(watch);
          if (!watch.open) return;
          watch.open = false;
          watcher.broken(new Error(`revision ${fromRevision} has been compacted (history starts at ${this.#space.compacted})`));
          return;
        }
        for (const change of backlog) if (watch.open) watcher.change(change);
      });
      return {
        close: () => {
          watch.open = false;
          this.#space.watchers.delete(watch);
          this.#watches.delete(watch);
          return Promise.resolve();
        },
      };
    });
  }

  close(): Promise<void> {
    this.#closed = true;
    for (const watch of this.#watches) {
      watch.open = false;
      this.#space.watchers.delete(watch);
    }
    this.#watches.clear();
    return Promise.resolve();
  }

  #publish(change: SharedChange): void {
    this.#space.history.push(change);
    for (const watch of this.#space.watchers) {
      watch.behind.push(revisionOf(change));
      queueMicrotask(() => {
        watch.behind.shift();
        if (watch.open) watch.watcher.change(change);
      });
    }
  }

  /** A write: committed at once; its answer waits while `holdAnswers()` holds them. */
  async #write<T>(action: () => T): Promise<T> {
    const answers = this.#answers;
    const result = await this.#call(action);
    if (answers !== undefined && (await answers) === 'lose') throw new Error('the answer from the memory store was lost');
    return result;
  }

  #call<T>(action: () => T): Promise<T> {
    if (this.#closed) return Promise.reject(new Error('This shared memory store was used after close().'));
    if (!this.#space.available) return Promise.reject(new Error('the memory store is unavailable'));
    try {
      return Promise.resolve(action());
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }
}

export function revisionOf(change: SharedChange): number {
  return change.kind === 'put' ? change.record.revision : change.revision;
}
