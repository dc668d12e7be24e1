import { keyOf } from './endpoint';
import { revisionOf, type SharedChange } from './shared-store';

/** The endpoint key a change is about. */
export function keyOfChange(change: SharedChange): string {
  return keyOf(change.kind === 'put' ? change.record.endpoint : change.endpoint);
}

/** What to do with a change the feed brought: apply it, or nothing (held for later, or stale). */
export type FeedVerdict = 'apply' | 'held' | 'stale';

/**
 * One replica's account of a shared store, key by key: the decisions that keep its pools
 * following the store exactly, and nothing else (no pools, no I/O).
 *
 * - Each key reflects the store as of some revision: the last change applied to it, or the
 *   revision at which it was known absent. A change is applied only when it is newer than what
 *   its own key reflects; what other keys did meanwhile never matters, so no change is dropped
 *   because another key moved on.
 * - While a write of ours to a key is in flight, the feed's changes to that key are held: the
 *   watch may bring them (our own echo, or another replica's later change) before the write's
 *   answer. When the write ends they come back, in feed order, to be applied after the answer.
 * - The feed delivers changes in revision order; one at or below its position was delivered
 *   already and is stale.
 */
export class SharedFeed {
  /** Registered keys: the revision of the put they reflect. */
  readonly #present = new Map<string, number>();
  /**
   * Keys known absent, with the revision they are known absent at (a delete, or a load that did
   * not list them while a write to them was in flight). Kept only while an older put of the key
   * may still arrive: until the feed has passed the revision, and no write to the key is in flight.
   */
  readonly #absent = new Map<string, number>();
  readonly #inflight = new Map<string, { writes: number; held: SharedChange[] }>();
  /** The newest revision the feed (or a load) has brought. */
  #position = 0;

  /**
   * After a load of the whole store at `revision`: every listed key is registered as of its own
   * revision, every other one is absent as of `revision` (the store may be a new one, whose
   * revisions are lower: nothing from before the load counts).
   */
  reset(revision: number, present: Iterable<readonly [key: string, revision: number]>): void {
    this.#present.clear();
    this.#absent.clear();
    for (const [key, at] of present) this.#present.set(key, at);
    for (const key of this.#inflight.keys()) {
      // The answer to a write from before the load, and the changes held for it, may come
      // after it: recorded absent, the key takes none of them that the load already reflects.
      if (!this.#present.has(key)) this.#absent.set(key, revision);
    }
    this.#position = revision;
  }

  /** A change from the feed, in feed order. */
  receive(change: SharedChange): FeedVerdict {
    const revision = revisionOf(change);
    if (revision <= this.#position) return 'stale';
    this.#position = revision;
    this.#forgetPassedAbsences();
    const key = keyOfChange(change);
    const inflight = this.#inflight.get(key);
    if (inflight !== undefined) {
      inflight.held.push(change);
      return 'held';
    }
    return this.isNewer(key, revision) ? 'apply' : 'stale';
  }

  /** Whether a change to `key` at `revision` is newer than what the key reflects. */
  isNewer(key: string, revision: number): boolean {
    const known = this.#present.get(key) ?? this.#absent.get(key);
    return known === undefined || revision > known;
  }

  /** The key now reflects the store as of `revision`: registered (a put applied) or absent (a delete). */
  record(key: string, revision: number, registered: boolean): void {
    if (registered) {
      this.#present.set(key, revision);
      this.#absent.delete(key);
    } else {
      this.#present.delete(key);
      this.#absent.set(key, revision);
    }
  }

  beginWrite(key: string): void {
    const inflight = this.#inflight.get(key);
    if (inflight === undefined) this.#inflight.set(key, { writes: 1, held: [] });
    else inflight.writes++;
  }

  /** Ends one write to `key`; after the last one, returns the changes held meanwhile, in feed order. */
  endWrite(key: string): SharedChange[] {
    const inflight = this.#inflight.get(key);
    if (inflight === undefined || --inflight.writes > 0) return [];
    this.#inflight.delete(key);
    return inflight.held;
  }

  #forgetPassedAbsences(): void {
    for (const [key, at] of this.#absent) {
      // The feed is past the absence: any later change to the key is newer anyway.
      if (at <= this.#position && !this.#inflight.has(key)) this.#absent.delete(key);
    }
  }
}
