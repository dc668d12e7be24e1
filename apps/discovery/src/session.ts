import { DISCOVERY_HELP, type DiscoveryReply, type DiscoveryRequest, type DiscoveryVerb, type FailureCode, failure, formatDiscoveryReply, parseDiscoveryRequest, formatAddress, firstWord } from '@conv/protocol';
import { PathFinder } from '@conv/conversion';
import { type AddOutcome, type Endpoint, type EndpointRegistry, RegistryError, type Settled, type UnitPair, unitPair } from '@conv/registry';
import { type Connection, type ConnectionMode, type LineSession, type Logger, type Peer } from '@conv/server';
import { type Watch, Watchers, watcherLabel } from './watchers';
import { unknownPair } from './lookup-failures';
import { notConfirmed, notConfirmedAfter } from './unconfirmed-change';
import { ReportLimiter } from './reports';
import { isOwnAddress, tokenDigest, tokenMatches } from './who-may-change';

export { isOwnAddress };

/** What the session needs of the health checks: a narrow door, so the logic stays testable. */
export interface HealthChecks {
  track(endpoint: Endpoint, pair: UnitPair): void;
  untrack(endpoint: Endpoint): void;
  /** `confirm`: probe on while probes pass, until up. `suspect`: probe on while probes fail, until down. */
  probeNow(endpoint: Endpoint, options?: { confirm?: boolean; suspect?: boolean; source?: string }): void;
  /** Probes `endpoint` for `pair` now, whatever it is tracked for: does it serve that pair? */
  admits(endpoint: Endpoint, pair: UnitPair): Promise<boolean>;
}

/** What this server adds to the course protocol, as FEATURES lists it (see docs/protocol.md). */
export const FEATURES: readonly string[] = ['session', 'report', 'remove-pair', 'watch', 'lease'];

export type DiscoveryServiceOptions = {
  registry: EndpointRegistry;
  checks: HealthChecks;
  log: Logger;
  /** ADD makes an endpoint `up` at once, skipping the admission probe. */
  trustRegistrations?: boolean;
  /** When set, ADD and REMOVE must carry this shared secret (`token=<secret>`). */
  token?: string | undefined;
  /** Which reports turn into probes (rate limits per reporter and per endpoint). */
  reports?: ReportLimiter;
  /** New registrations waiting for their admission probe: at most this many from one address, and in all. */
  maxPendingPerSource?: number;
  maxPending?: number;
  /**
   * On a connection that asked for SESSION or WATCH (a pipelining client, such as the proxy),
   * how long a change still waiting for the shared registry may hold the replies behind it; it
   * is then answered UNAVAILABLE (not confirmed). Unset: as long as the change takes.
   */
  sessionWriteWaitMs?: number;
};

const PONG: DiscoveryReply = { kind: 'pong' };
const SESSION: DiscoveryReply = { kind: 'session' };
const FEATURES_REPLY: DiscoveryReply = { kind: 'features', features: [...FEATURES] };
const SUCCESS: DiscoveryReply = { kind: 'success' };
const HELP: DiscoveryReply = { kind: 'help', lines: [...DISCOVERY_HELP] };

/**
 * One request answered: the verb asked (undefined when the line did not parse), what came of it
 * (`ok` or the FAILURE code) and the reply's bytes. Metrics count the outcome as typed here.
 */
export type Answered = { readonly verb: DiscoveryVerb | undefined; readonly outcome: 'ok' | FailureCode; readonly text: string };
type Reply = DiscoveryReply | Promise<DiscoveryReply>;
/** `DiscoveryService.answer`, or a wrapper of it (metrics). */
export type AnswerLine = (line: string, peer: Peer) => Answered | Promise<Answered>;

/**
 * The discovery protocol without sockets: one request line in, the reply's bytes out
 * (one or more lines, each with its terminator). Never throws: a bug becomes an INTERNAL
 * failure line and the server keeps serving. The only effects are on the registry and
 * requests for probes; LOOKUP never waits for anything.
 */
export class DiscoveryService {
  readonly #registry: EndpointRegistry;
  readonly #checks: HealthChecks;
  readonly #log: Logger;
  readonly #trust: boolean;
  readonly #finder: PathFinder;
  readonly #tokenDigest: Buffer | undefined;
  /** The connections that sent WATCH. */
  readonly watchers: Watchers;
  readonly reports: ReportLimiter;
  readonly #maxPendingPerSource: number;
  readonly #maxPending: number;
  readonly #sessionWriteWaitMs: number | undefined;
  /** Endpoints each source registered that may still be pending; pruned as they leave pending. */
  readonly #pendingBy = new Map<string, Map<string, Endpoint>>();

  constructor(options: DiscoveryServiceOptions) {
    this.#maxPendingPerSource = options.maxPendingPerSource ?? Number.POSITIVE_INFINITY;
    this.#maxPending = options.maxPending ?? Number.POSITIVE_INFINITY;
    this.#sessionWriteWaitMs = options.sessionWriteWaitMs;
    this.reports = options.reports ?? new ReportLimiter();
    this.#registry = options.registry;
    this.#checks = options.checks;
    this.#log = options.log;
    this.#trust = options.trustRegistrations ?? false;
    this.#tokenDigest = options.token === undefined ? undefined : tokenDigest(options.token);
    const registry = this.#registry;
    this.watchers = new Watchers(registry);
    this.#finder = new PathFinder({
      get version() {
        return registry.version;
      },
      pairs: () => registry.pairs(),
    });
  }

  /**
   * One connection's conversation: the course's exchange (every request answered, then the
   * line server closes after the close grace) until the client asks for `SESSION`.
   */
  connect(connection: Connection, options: { greeting?: string; answer?: AnswerLine } = {}): LineSession {
    // Every request is judged by where it comes from: the address, read now, while connected.
    const peer: Peer = { address: connection.peer.address };
    const answer = options.answer ?? ((line: string, from: Peer) => this.answer(line, from));
    let mode: ConnectionMode = 'grace';
    let watch: Watch | undefined;
    const keep = (a: Answered): string => {
      if (a.verb === 'SESSION' && a.outcome === 'ok' && mode !== 'watching') mode = 'persistent';
      return a.text;
    };
    return {
      greeting: options.greeting ?? '',
      get mode() {
        return mode;
      },
      handle: (line) => {
        const parsed = isWatch(line) ? parseDiscoveryRequest(line) : undefined;
        // A malformed WATCH is answered (and counted) like any malformed request, below.
        if (parsed?.ok && parsed.value.verb === 'WATCH') {
          // A second WATCH on the connection starts over from its own position.
          watch?.stop();
          watch = this.watchers.start(parsed.value, connection, Date.now());
          mode = 'watching';
          this.#log.info('watch', { watcher: watcherLabel({ peer: peer.address, since: 0, ...optional(parsed.value) }), resume: parsed.value.from !== undefined, watchers: this.watchers.count });
          return watch.reply;
        }
        const reply = answer(line, peer);
        if (!(reply instanceof Promise)) return keep(reply);
        // Replies go out in order: on a session, a change waiting for etcd must not hold the
        // lookups pipelined behind it past the client's own wait (the proxy's is 1 s).
        const waitMs = this.#sessionWriteWaitMs;
        return (mode === 'grace' || waitMs === undefined ? reply : notConfirmedAfter(reply, waitMs, this.#log, () => answered(undefined, notConfirmed(waitMs)))).then(keep);
      },
      closed: () => watch?.stop(),
    };
  }

  /** The reply's bytes for one request line; see `answer`. */
  handle(line: string, peer: Peer): string | Promise<string> {
    const answered = this.answer(line, peer);
    return answered instanceof Promise ? answered.then((a) => a.text) : answered.text;
  }

  /**
   * At once, or a promise (an ADD or REMOVE waiting for a shared registry to commit, an ADD
   * waiting for the probe that lets it replace a dead registration). Never rejects.
   */
  answer(line: string, peer: Peer): Answered | Promise<Answered> {
    const parsed = parseDiscoveryRequest(line);
    if (!parsed.ok) return answered(undefined, { kind: 'failure', failure: parsed.failure });
    const verb = parsed.value.verb;
    try {
      const reply = this.#serve(parsed.value, peer);
      if (!(reply instanceof Promise)) return answered(verb, reply);
      return reply.then((value) => answered(verb, value)).catch((error: unknown) => answered(verb, this.#internal(line, error)));
    } catch (error) {
      return answered(verb, this.#internal(line, error));
    }
  }

  #internal(line: string, error: unknown): DiscoveryReply {
    if (error instanceof RegistryError && error.code === 'UNAVAILABLE') {
      this.#log.warn('store-unavailable', { request: line.split(' ', 1)[0], error: error.message });
      return { kind: 'failure', failure: failure('UNAVAILABLE', 'The shared registry (etcd) is unreachable; nothing was changed.') };
    }
    this.#log.error('internal', { request: line.slice(0, 80), error: error instanceof Error ? error.message : String(error) });
    return { kind: 'failure', failure: failure('INTERNAL', 'The server could not answer this request; it keeps serving others.') };
  }

  #serve(request: DiscoveryRequest, peer: Peer): Reply {
    switch (request.verb) {
      case 'LOOKUP': {
        const endpoint = this.#registry.next(request.units);
        if (endpoint !== undefined) return { kind: 'endpoint', endpoint };
        return { kind: 'failure', failure: unknownPair(this.#registry, request.units) };
      }
      case 'LOOKUP_MULTI':
        return this.#lookupMulti(request.from, request.to);
      case 'ADD':
        if (!this.#authorized(request.token)) return this.#unauthorized('ADD', peer);
        return this.#add(request.units, request.endpoint, peer, request.leaseMs);
      case 'REMOVE':
        if (!this.#authorized(request.token)) return this.#unauthorized('REMOVE', peer);
        return this.#remove(request.endpoint, peer, request.token !== undefined && this.#tokenDigest !== undefined);
      case 'REMOVE_PAIR':
        if (!this.#authorized(request.token)) return this.#unauthorized('REMOVE', peer);
        return this.#removePair(request.units, peer, request.token !== undefined && this.#tokenDigest !== undefined);
      case 'REPORT':
        return this.#report(request.endpoint, peer, request.reason ?? 'REPORT');
      case 'PING':
        return PONG;
      case 'SESSION':
        return SESSION;
      case 'FEATURES':
        return FEATURES_REPLY;
      case 'LIST':
        return {
          kind: 'list',
          registrations: this.#registry.registrations().map((r) => ({
            units: [r.pair[0], r.pair[1]],
            endpoint: r.endpoint,
            health: r.health,
            ...(r.leaseMs === undefined ? {} : { leaseMs: r.leaseMs, lapsed: r.lapsed }),
          })),
        };
      case 'HELP':
        return HELP;
      case 'WATCH':
        // Served by `connect`, which holds the connection the changes are pushed to.
        return { kind: 'failure', failure: failure('INTERNAL', 'WATCH needs a connection to push changes to.') };
    }
  }

  #lookupMulti(from: string, to: string): DiscoveryReply {
    const path = this.#finder.findPath(from, to);
    if (!path.ok) {
      switch (path.reason) {
        case 'same-unit':
          return { kind: 'failure', failure: failure('SAME_UNIT', `${from} to ${to} needs no conversion.`) };
        case 'unknown-unit':
        case 'no-path':
          return { kind: 'failure', failure: failure('NO_PATH', `No chain of healthy servers converts ${from} -> ${to}.`) };
      }
    }
    const hops = path.hops.map((hop) => {
      const endpoint = this.#registry.next([hop.from, hop.to]);
      // The graph is built from pairs with an up endpoint, and both change together.
      if (endpoint === undefined) throw new Error(`path hop ${hop.from}/${hop.to} has no up endpoint`);
      return { from: hop.from, to: hop.to, endpoint };
    });
    return { kind: 'path', hops };
  }

  #add(units: readonly [string, string], endpoint: Endpoint, peer: Peer, leaseMs: number | undefined): Reply {
    if (units[0] === units[1]) {
      return { kind: 'failure', failure: failure('SAME_UNIT', `A server converts between two different units, not ${units[0]} and itself.`) };
    }
    const pair = unitPair(units[0], units[1]);
    const health = this.#trust ? 'up' : 'pending';
    if (!this.#trust && this.#registry.find(endpoint) === undefined) {
      const refused = this.#admissionRefused(peer.address);
      if (refused !== undefined) return refused;
      this.#rememberPending(peer.address, endpoint);
    }
    // Acknowledged once the registry has made it durable: at once in SQLite, once etcd has committed it.
    return after(this.#registry.add(pair, endpoint, { health, leaseMs }), (outcome) => this.#added(outcome, pair, endpoint, peer, leaseMs));
  }

  #added(outcome: AddOutcome, pair: UnitPair, endpoint: Endpoint, peer: Peer, leaseMs: number | undefined): Reply {
    if (!outcome.ok) {
      const [a, b] = outcome.existing;
      const exists: DiscoveryReply = {
        kind: 'failure',
        failure: failure('ENTRY_EXISTS', `${endpoint.host} ${endpoint.port} is registered for ${a} ${b}; REMOVE it first.`),
      };
      // A server that died without deregistering, replaced on its port by one for another pair:
      // the dead registration gives way once the new one proves it serves its pair.
      const old = this.#registry.find(endpoint);
      if (old === undefined || old.health === 'up') return exists;
      return this.#checks.admits(endpoint, pair).then((admitted) => (admitted ? this.#replace(endpoint, old.pair, pair, peer, leaseMs) : exists));
    }
    this.#checks.track(endpoint, pair);
    const health = this.#registry.find(endpoint)?.health;
    if (outcome.created) {
      this.#log.info('registered', { endpoint: formatAddress(endpoint), pair: `${pair[0]}/${pair[1]}`, health, from: peer.address });
    }
    if (outcome.renewed !== undefined) this.#log.info('lease-renewed', { endpoint: formatAddress(endpoint), pair: `${pair[0]}/${pair[1]}`, from: outcome.renewed.from, to: outcome.renewed.to });
    // The admission check: nothing is handed out before a probe proves it serves the pair. A
    // re-ADD of an endpoint that is not up (a converter restarting) is checked at once too.
    if (health !== 'up') this.#checks.probeNow(endpoint, { confirm: true, source: peer.address });
    return SUCCESS;
  }

  /** A new registration over the caps (pending ones from this address, or in all): refused, nothing stored. */
  #admissionRefused(source: string): DiscoveryReply | undefined {
    const mine = this.#pendingBy.get(source);
    // Pruned only at the cap: pruning on every new ADD made registering n endpoints from one
    // source cost n^2 lookups (10,000 from one farm held the event loop for minutes).
    if (mine !== undefined && mine.size >= this.#maxPendingPerSource) {
      for (const [key, endpoint] of mine) if (this.#registry.find(endpoint)?.health !== 'pending') mine.delete(key);
      if (mine.size === 0) this.#pendingBy.delete(source);
    }
    let detail: string | undefined;
    if ((mine?.size ?? 0) >= this.#maxPendingPerSource) detail = `${this.#maxPendingPerSource} registrations from ${source} are still waiting for their first health check`;
    else if (this.#registry.counts().pending >= this.#maxPending) detail = `${this.#maxPending} registrations are still waiting for their first health check`;
    if (detail === undefined) return undefined;
    this.#log.warn('admission-refused', { from: source, detail });
    return { kind: 'failure', failure: failure('TOO_MANY_PENDING', `${detail}; try again once they pass or leave.`) };
  }

  #rememberPending(source: string, endpoint: Endpoint): void {
    // Sources that never come back would leave their sets behind: sweep them all now and then.
    if (this.#pendingBy.size >= 4096 && !this.#pendingBy.has(source)) {
      for (const [other, theirs] of this.#pendingBy) {
        for (const [key, known] of theirs) if (this.#registry.find(known)?.health !== 'pending') theirs.delete(key);
        if (theirs.size === 0) this.#pendingBy.delete(other);
      }
    }
    let mine = this.#pendingBy.get(source);
    if (mine === undefined) this.#pendingBy.set(source, (mine = new Map<string, Endpoint>()));
    mine.set(formatAddress(endpoint), endpoint);
  }

  async #replace(endpoint: Endpoint, old: UnitPair, pair: UnitPair, peer: Peer, leaseMs: number | undefined): Promise<DiscoveryReply> {
    await this.#registry.remove(endpoint);
    const added = await this.#registry.add(pair, endpoint, { health: this.#trust ? 'up' : 'pending', leaseMs });
    this.#checks.untrack(endpoint);
    this.#log.info('replaced', { endpoint: formatAddress(endpoint), was: `${old[0]}/${old[1]}`, pair: `${pair[0]}/${pair[1]}`, from: peer.address });
    return this.#added(added, pair, endpoint, peer, leaseMs);
  }

  /** Without a configured token every change is allowed; with one, only a matching token. */
  #authorized(token: string | undefined): boolean {
    return this.#tokenDigest === undefined || tokenMatches(token, this.#tokenDigest);
  }

  #unauthorized(verb: 'ADD' | 'REMOVE', peer: Peer): DiscoveryReply {
    this.#log.warn('unauthorized', { verb, from: peer.address });
    return {
      kind: 'failure',
      failure: failure('UNAUTHORIZED', `${verb} needs this registry's token: append token=<secret>. Nothing was changed.`),
    };
  }

  #remove(endpoint: Endpoint, peer: Peer, withToken = false): Reply {
    const known = this.#registry.find(endpoint);
    if (known === undefined) {
      return { kind: 'failure', failure: failure('NOT_REGISTERED', `Nothing is registered at ${endpoint.host} ${endpoint.port}.`) };
    }
    const key = formatAddress(endpoint);
    const pair = `${known.pair[0]}/${known.pair[1]}`;
    if (withToken || isOwnAddress(peer.address, endpoint)) {
      // The server itself is leaving (or a proxy on the same host reporting it), or someone holding
      // the registry's token says so: remove durably.
      const removed = (): DiscoveryReply => {
        this.#checks.untrack(endpoint);
        this.#log.info('removed', { endpoint: key, pair, from: peer.address, by: withToken ? 'token' : 'own-host' });
        return SUCCESS;
      };
      return after(this.#registry.remove(endpoint), removed);
    }
    // From anyone else it is a report, not an order: a probe decides, nothing changes before.
    return this.#report(endpoint, peer, 'REMOVE from another host');
  }

  /**
   * A request to look: at most one probe per endpoint per interval and a few per reporter (see
   * reports.ts); the endpoint keeps its state until a probe says otherwise. Never waits.
   */
  #report(endpoint: Endpoint, peer: Peer, reason: string): DiscoveryReply {
    const known = this.#registry.find(endpoint);
    if (known === undefined) {
      return { kind: 'failure', failure: failure('NOT_REGISTERED', `Nothing is registered at ${endpoint.host} ${endpoint.port}.`) };
    }
    const key = formatAddress(endpoint);
    if (this.reports.admit(peer.address, key)) {
      this.#checks.probeNow(endpoint, { suspect: true });
      this.#log.info('reported', { endpoint: key, pair: `${known.pair[0]}/${known.pair[1]}`, from: peer.address, health: known.health, reason: reason.slice(0, 120) });
    }
    return SUCCESS;
  }

  /** `REMOVE <unit1> <unit2>`: the rules of REMOVE for every endpoint of the pair. */
  #removePair(units: readonly [string, string], peer: Peer, withToken: boolean): Reply {
    const members = this.#registry.pool(unitPair(units[0], units[1])).endpoints();
    if (members.length === 0) {
      return { kind: 'failure', failure: failure('NOT_REGISTERED', `Nothing is registered for ${units[0]} ${units[1]}.`) };
    }
    const pending = members.map((endpoint) => this.#remove(endpoint, peer, withToken)).filter((reply) => reply instanceof Promise);
    return pending.length === 0 ? SUCCESS : Promise.all(pending).then(() => SUCCESS);
  }

}

function optional(request: { name?: string | undefined; httpPort?: number | undefined }): { name?: string; httpPort?: number } {
  return { ...(request.name === undefined ? {} : { name: request.name }), ...(request.httpPort === undefined ? {} : { httpPort: request.httpPort }) };
}

/** `fn` of a registry change's outcome: at once for a value, when it settles for a promise. */
function after<T, R>(outcome: Settled<T>, fn: (value: T) => R | Promise<R>): R | Promise<R> {
  return outcome instanceof Promise ? outcome.then(fn) : fn(outcome);
}

function answered(verb: DiscoveryVerb | undefined, reply: DiscoveryReply): Answered {
  return { verb, outcome: reply.kind === 'failure' ? reply.failure.code : 'ok', text: formatDiscoveryReply(reply) };
}

/** Is the line's verb WATCH (any case)? Asked of every line, so without splitting it. */
function isWatch(line: string): boolean {
  const verb = firstWord(line);
  return verb.length === 5 && verb.toUpperCase() === 'WATCH';
}
