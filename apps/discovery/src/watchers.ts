import { type DiscoveryRequest, formatAddress, formatSynced, formatWatchChange, formatWatchEntry } from '@conv/protocol';
import type { EndpointRegistry, RegistryChange } from '@conv/registry';
import type { Connection } from '@conv/server';

type WatchRequest = Extract<DiscoveryRequest, { verb: 'WATCH' }>;

/** A watcher as the status page lists it. */
export type WatcherInfo = { name?: string; peer: string; httpPort?: number; since: number };

/** A watch in progress on one connection; `stop` ends it (the connection closed, or watches anew). */
export type Watch = { readonly reply: string; stop(): void };

/**
 * The watches of one discovery server: each connection that sent `WATCH` gets a snapshot (or
 * the changes it missed) as its reply, then every change pushed as a `CHANGE` line between
 * replies. A change is written once, whatever the number of watchers.
 */
export class Watchers {
  readonly #registry: EndpointRegistry;
  readonly #watching = new Map<object, WatcherInfo>();
  #last: { seq: number; line: string } = { seq: 0, line: '' };

  constructor(registry: EndpointRegistry) {
    this.#registry = registry;
  }

  get count(): number {
    return this.#watching.size;
  }

  list(): WatcherInfo[] {
    return [...this.#watching.values()].map((info) => ({ ...info }));
  }

  start(request: WatchRequest, connection: Connection, now: number): Watch {
    const epoch = this.#registry.changes.epoch;
    const key = {};
    let open = true;
    const { start, stop } = this.#registry.watch((change) => {
      // A watcher that does not read its changes is cut by the line server; it resumes later.
      if (open && !connection.push(this.#line(epoch, change))) end();
    }, request.from);
    const end = (): void => {
      if (!open) return;
      open = false;
      stop();
      this.#watching.delete(key);
    };
    const info: WatcherInfo = { peer: connection.peer.address, since: now };
    if (request.name !== undefined) info.name = request.name;
    if (request.httpPort !== undefined) info.httpPort = request.httpPort;
    this.#watching.set(key, info);
    const reply =
      start.kind === 'snapshot'
        ? start.registrations.map((r) => formatWatchEntry({ units: [r.pair[0], r.pair[1]], endpoint: r.endpoint, health: r.health })).join('') +
          formatSynced({ epoch, seq: start.seq })
        : formatSynced({ epoch, seq: start.seq }) + start.changes.map((change) => this.#line(epoch, change)).join('');
    return { reply, stop: end };
  }

  #line(epoch: string, change: RegistryChange): string {
    if (this.#last.seq !== change.seq) {
      const line = formatWatchChange({ epoch, seq: change.seq, kind: change.kind, units: [change.pair[0], change.pair[1]], endpoint: change.endpoint, health: change.health });
      this.#last = { seq: change.seq, line };
    }
    return this.#last.line;
  }
}

/** How a watcher is named in logs: its name, else its address. */
export function watcherLabel(info: WatcherInfo): string {
  return info.name ?? (info.httpPort === undefined ? info.peer : formatAddress({ host: info.peer, port: info.httpPort }));
}
