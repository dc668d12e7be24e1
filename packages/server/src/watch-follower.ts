import {
  type DiscoveryReplyReader,
  type WatchChange,
  type WatchEntry,
  type WatchPosition,
  createDiscoveryReplyReader,
  formatDiscoveryRequest,
  isChangeLine,
  parseWatchLine,
} from '@conv/protocol';
import type { Logger } from './log';

/** What a client that watches discovery is told (see docs/protocol.md, "Watching the registry"). */
export type DiscoveryWatcher = {
  /** Names this watcher on discovery's status page (`as=<name> http=<port>`). */
  readonly name?: string;
  readonly httpPort?: number;
  /** A fresh snapshot: what the watcher knew is replaced by `entries`. */
  snapshot(entries: WatchEntry[], position: WatchPosition): void;
  /** The next change, in order, after the snapshot or a resume. */
  change(change: WatchChange): void;
  /** Connected to a discovery that does not list `watch`: ask it request by request. */
  unsupported(): void;
  /** Every replica is unreachable for now; the session keeps trying (keep the last view). */
  unavailable?(): void;
};

/** What became of a line read on a watching connection. */
export type Taken = 'taken' | 'not-mine' | 'resync';

/**
 * One watch across reconnects: asks `WATCH` (with the position reached, to resume) on each new
 * connection to a server that lists `watch`, reads the snapshot reply, then takes the `CHANGE`
 * lines that come between replies. A change out of sequence means a line was lost: the caller
 * drops the connection, and the next one resumes from the last change applied.
 */
export class WatchFollower {
  readonly #watcher: DiscoveryWatcher;
  readonly #log: Logger;
  #position: WatchPosition | undefined;
  #asked: WatchPosition | undefined;
  #phase: 'off' | 'syncing' | 'live' = 'off';
  #reader: DiscoveryReplyReader | undefined;

  constructor(watcher: DiscoveryWatcher, log: Logger) {
    this.#watcher = watcher;
    this.#log = log;
  }

  /** The position reached: the last change applied. */
  get position(): WatchPosition | undefined {
    return this.#position;
  }

  get live(): boolean {
    return this.#phase === 'live';
  }

  /** A connection is ready: the WATCH line to send first, or undefined when the server has no watch. */
  begin(features: readonly string[]): string | undefined {
    if (!features.includes('watch')) {
      this.#phase = 'off';
      this.#watcher.unsupported();
      return undefined;
    }
    this.#phase = 'syncing';
    this.#asked = this.#position === undefined ? undefined : { ...this.#position };
    this.#reader = createDiscoveryReplyReader('WATCH');
    const { name, httpPort } = this.#watcher;
    return formatDiscoveryRequest({ verb: 'WATCH', ...(this.#asked ? { from: this.#asked } : {}), ...(name === undefined ? {} : { name }), ...(httpPort === undefined ? {} : { httpPort }) });
  }

  take(line: string): Taken {
    if (this.#phase === 'syncing' && this.#reader !== undefined) {
      const step = this.#reader.push(line);
      if (!step.done) return 'taken';
      this.#reader = undefined;
      const reply = step.reply;
      if (reply.kind !== 'synced') {
        this.#phase = 'off';
        this.#log.warn('discovery-watch-refused', { reply: reply.kind === 'failure' ? reply.failure.message : reply.kind });
        this.#watcher.unsupported();
        return 'taken';
      }
      const asked = this.#asked;
      const resumed = asked !== undefined && reply.entries.length === 0 && asked.epoch === reply.position.epoch && asked.seq === reply.position.seq;
      this.#position = { ...reply.position };
      this.#phase = 'live';
      if (!resumed) this.#watcher.snapshot(reply.entries, { ...reply.position });
      this.#log.debug('discovery-watch-synced', { epoch: reply.position.epoch, seq: reply.position.seq, resumed, entries: reply.entries.length });
      return 'taken';
    }
    if (this.#phase !== 'live' || !isChangeLine(line)) return 'not-mine';
    const read = parseWatchLine(line);
    const position = this.#position;
    if (!read.ok || read.value.kind !== 'change' || position === undefined) {
      this.#log.warn('discovery-watch-bad-line', { line: line.slice(0, 120) });
      return 'resync';
    }
    const change = read.value.change;
    if (change.epoch !== position.epoch || change.seq !== position.seq + 1) {
      this.#log.warn('discovery-watch-gap', { expected: position.seq + 1, got: change.seq });
      return 'resync';
    }
    position.seq = change.seq;
    this.#watcher.change(change);
    return 'taken';
  }

  /** The connection ended: the next one asks again, from the position reached. */
  end(): void {
    this.#phase = 'off';
    this.#reader = undefined;
  }
}
