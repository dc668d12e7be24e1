import { randomBytes } from 'node:crypto';
import type { Endpoint, UnitPair } from './endpoint';
import { RegistryError } from './errors';
import type { Health } from './health';

/**
 * One change to a registry's pools, numbered: `added` (health is the new entry's), `removed`
 * (health is the one it had), `health` (health is the new state).
 */
export type RegistryChange = {
  readonly seq: number;
  readonly kind: 'added' | 'removed' | 'health';
  readonly pair: UnitPair;
  readonly endpoint: Endpoint;
  readonly health: Health;
};

export type ChangeListener = (change: RegistryChange) => void;

/** Changes kept for watchers that resume: enough for a reconnect after a second of heavy churn. */
export const DEFAULT_CHANGE_HISTORY = 10_000;

/**
 * The registry's journal: every change to its pools in order, numbered from 1 within an epoch
 * (made at random when the feed is made, so numbers from another process never pass for ours),
 * the last `history` of them kept for watchers that resume, and listeners told of each change
 * as it happens. Pure bookkeeping: no I/O, no clock.
 */
export class ChangeFeed {
  readonly epoch: string;
  readonly #history: RegistryChange[] = [];
  readonly #limit: number;
  readonly #listeners = new Set<ChangeListener>();
  #seq = 0;

  constructor(options: { epoch?: string; history?: number } = {}) {
    const limit = options.history ?? DEFAULT_CHANGE_HISTORY;
    if (!Number.isSafeInteger(limit) || limit < 0) throw new RegistryError('INVALID_OPTIONS', `Expected a change history of 0 or more changes, received ${String(limit)}.`);
    this.#limit = limit;
    this.epoch = options.epoch ?? randomBytes(8).toString('hex');
  }

  /** The number of the last change; 0 before the first. */
  get seq(): number {
    return this.#seq;
  }

  /** How many watchers listen now. */
  get listeners(): number {
    return this.#listeners.size;
  }

  record(kind: RegistryChange['kind'], pair: UnitPair, endpoint: Endpoint, health: Health): void {
    const change: RegistryChange = Object.freeze({ seq: ++this.#seq, kind, pair, endpoint, health });
    if (this.#limit > 0) {
      this.#history.push(change);
      // Trimmed in batches: one copy per `limit` changes, not one per change.
      if (this.#history.length >= 2 * this.#limit) this.#history.splice(0, this.#history.length - this.#limit);
    }
    for (const listener of this.#listeners) {
      try {
        listener(change);
      } catch (error) {
        // A listener's bug must not leave the pools half changed: it surfaces, after the change.
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }

  /** Tells `listener` of every later change, synchronously, until the returned function is called. */
  subscribe(listener: ChangeListener): () => void {
    const own = (change: RegistryChange) => listener(change);
    this.#listeners.add(own);
    return () => {
      this.#listeners.delete(own);
    };
  }

  /**
   * Every change after `seq` of this epoch, oldest first, or undefined when they are not all
   * held any more (or `seq` is not one of ours): the watcher needs a fresh snapshot then.
   */
  since(epoch: string, seq: number): RegistryChange[] | undefined {
    if (epoch !== this.epoch || !Number.isSafeInteger(seq) || seq < 0 || seq > this.#seq) return undefined;
    if (seq === this.#seq) return [];
    const oldest = this.#history[0]?.seq;
    if (oldest === undefined || oldest > seq + 1) return undefined;
    return this.#history.slice(seq + 1 - oldest);
  }
}
