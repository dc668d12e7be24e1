import { keyOf, type Endpoint, type UnitPair } from './endpoint';
import { RegistryError } from './errors';

/** What a store keeps of a registration: only the facts that must survive a restart. */
export type StoredRegistration = {
  /** Registration order, assigned by the registry; unique and increasing. */
  readonly seq: number;
  readonly pair: UnitPair;
  readonly endpoint: Endpoint;
  readonly addedAt: number;
  /**
   * Times the registry handed this endpoint out, as of its last `saveServed`. Statistics, not
   * acknowledged state: absent (0) from a store that does not keep counts.
   */
  readonly served?: number;
  /** Its lease's length (ADD ... lease=): restored with a fresh lease. Absent: no lease. */
  readonly leaseMs?: number;
};

/** One registration's `served` count, as `saveServed` records it. */
export type ServedCount = { readonly seq: number; readonly served: number };

/**
 * Where registrations are kept across restarts. The registry holds everything in memory and
 * uses the store as a log: it reads it once on open and writes each change through it.
 * Every method is synchronous, and a write is durable by the time it returns (what
 * "durable" means is the store's to document). A failed write must throw and change nothing.
 */
export interface RegistryStore {
  /** Every stored registration, in ascending `seq` order. */
  load(): StoredRegistration[];
  /** Stores one registration, replacing any stored for the same endpoint. A `seq` used by another endpoint throws. */
  put(registration: StoredRegistration): void;
  /** Deletes the registrations of these endpoints in one atomic step; unknown endpoints are ignored. */
  delete(endpoints: readonly Endpoint[]): void;
  /**
   * Records these registrations' `served` counts in one step; seqs no longer stored are
   * ignored. Optional: without it, counts start at 0 whenever the registry opens. The
   * registry calls it only from `flushServed()` and `close()`, never per request.
   */
  saveServed?(counts: readonly ServedCount[]): void;
  /** Releases the store; idempotent. Any other call afterwards throws `CLOSED`. */
  close(): void;
}

/** A store that keeps nothing beyond the process: for tests and for embedding without a file. */
export class MemoryRegistryStore implements RegistryStore {
  readonly #byKey = new Map<string, StoredRegistration>();
  readonly #keyBySeq = new Map<number, string>();
  #closed = false;

  load(): StoredRegistration[] {
    this.#open();
    return [...this.#byKey.values()].sort((x, y) => x.seq - y.seq);
  }

  put(registration: StoredRegistration): void {
    this.#open();
    const key = keyOf(registration.endpoint);
    const holder = this.#keyBySeq.get(registration.seq);
    if (holder !== undefined && holder !== key) {
      throw new RegistryError('STORE_FAILED', `Sequence number ${registration.seq} is already used by ${holder}.`);
    }
    const previous = this.#byKey.get(key);
    if (previous !== undefined) this.#keyBySeq.delete(previous.seq);
    this.#byKey.set(key, registration);
    this.#keyBySeq.set(registration.seq, key);
  }

  delete(endpoints: readonly Endpoint[]): void {
    this.#open();
    for (const endpoint of endpoints) {
      const key = keyOf(endpoint);
      const previous = this.#byKey.get(key);
      if (previous === undefined) continue;
      this.#byKey.delete(key);
      this.#keyBySeq.delete(previous.seq);
    }
  }

  saveServed(counts: readonly ServedCount[]): void {
    this.#open();
    for (const { seq, served } of counts) {
      const key = this.#keyBySeq.get(seq);
      const stored = key === undefined ? undefined : this.#byKey.get(key);
      if (key !== undefined && stored !== undefined) this.#byKey.set(key, { ...stored, served });
    }
  }

  close(): void {
    this.#closed = true;
  }

  #open(): void {
    if (this.#closed) throw new RegistryError('CLOSED', 'This memory store was used after close().');
  }
}
