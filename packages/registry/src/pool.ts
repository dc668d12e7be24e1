import type { Endpoint, UnitPair } from './endpoint';
import type { Health } from './health';

/**
 * What a lease adds to a registration (ADD ... lease=). Made with its first lease and kept after
 * (its lapse count outlives it); most registrations never have one, so they carry one field, not four.
 */
export class Lease {
  /** The lease's length; undefined once an ADD without `lease=` took it off. */
  ms: number | undefined = undefined;
  /** When it lapses unless an ADD renews it; undefined where this registry does not time it (a shared store's lease). */
  expiresAt: number | undefined = undefined;
  /** It ran out and no ADD has renewed it since: held `down`, whatever probes say. */
  lapsed = false;
  /** How often it has lapsed since the entry was made. */
  lapses = 0;
}

/** One registration as the registry holds it; mutable, never handed out (callers get snapshots). */
export class Entry {
  lastCheck: number | undefined = undefined;
  consecutiveFailures = 0;
  consecutiveSuccesses = 0;
  served = 0;
  /** `served` as last handed to the store: entries where the two differ are flushed. */
  flushedServed = 0;
  /** Undefined for a registration that never asked for a lease. */
  lease: Lease | undefined = undefined;

  constructor(
    readonly seq: number,
    readonly pool: Pool,
    readonly endpoint: Endpoint,
    readonly key: string,
    readonly addedAt: number,
    public lastSeen: number,
    public health: Health,
    /** When `health` last changed (or the entry was created / restored). */
    public healthSince: number,
  ) {}
}

/**
 * The endpoints of one unit pair in registration order, with the round-robin cursor.
 *
 * `cursor` is the index just after the last endpoint handed out, deliberately not wrapped:
 * an endpoint appended after the last-used one at the end of the array is then the next
 * one served, exactly "the one after the last used". Removing an endpoint before the cursor
 * shifts the cursor with it, so the rotation neither skips nor repeats anyone.
 */
export class Pool {
  readonly members: Entry[] = [];
  cursor = 0;
  upCount = 0;
  /** Set once the pool has emptied and left the registry; handles then look the pair up again. */
  retired = false;

  constructor(readonly pair: UnitPair) {}

  next(): Entry | undefined {
    if (this.upCount === 0) return undefined;
    const members = this.members;
    const n = members.length;
    let i = this.cursor;
    for (let step = 0; step < n; step++) {
      if (i >= n) i = 0;
      const entry = members[i]!;
      if (entry.health === 'up') {
        this.cursor = i + 1;
        entry.served++;
        return entry;
      }
      i++;
    }
    return undefined;
  }

  /** The entry `next()` would hand out, without moving the cursor or counting it served. */
  peek(): Entry | undefined {
    if (this.upCount === 0) return undefined;
    const n = this.members.length;
    let i = this.cursor;
    for (let step = 0; step < n; step++) {
      if (i >= n) i = 0;
      const entry = this.members[i]!;
      if (entry.health === 'up') return entry;
      i++;
    }
    return undefined;
  }

  /**
   * Appends in `seq` order. Entries almost always arrive in order; a shared store's changes can
   * arrive slightly out of it (our own commit before another replica's earlier one).
   */
  append(entry: Entry): void {
    let i = this.members.length;
    while (i > 0 && this.members[i - 1]!.seq > entry.seq) i--;
    this.members.splice(i, 0, entry);
    if (i < this.cursor) this.cursor++;
  }

  remove(entry: Entry): void {
    const i = this.members.indexOf(entry);
    if (i < 0) return;
    this.members.splice(i, 1);
    if (i < this.cursor) this.cursor--;
  }
}
