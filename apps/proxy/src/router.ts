import {
  type ConversionRequest,
  type DiscoveryReply,
  type DiscoveryRequest,
  type Endpoint,
  type Failure,
  type Result,
  fail,
  failure,
  type TracedHop,
  formatConversionReply,
  formatTracedHop,
  formatConversionRequest,
  formatFailure,
  ok,
  formatAddress,
} from '@conv/protocol';
import { EndpointBook } from './endpoint-book';
import { type EjectionPolicy, Outliers } from './outliers';
import type { Answered } from './session';
import { judgeHopReply, unavailableHop, upstreamFailure } from './hop-reply';
import type { Logger } from '@conv/server';
import { type HopUnits, PathCache } from './path-cache';
import { PoolView } from './pool-view';

/** The discovery server as the router sees it; rejects when discovery cannot be reached. */
export type DiscoveryPort = {
  readonly address: Endpoint;
  /** What the discovery server listed in FEATURES; failing endpoints are reported only to one listing `report`. */
  readonly features?: readonly string[];
  request(request: DiscoveryRequest): Promise<DiscoveryReply>;
};

/** One attempt to have a converter answer a request line. */
export type HopAttempt =
  | { kind: 'line'; line: string }
  | { kind: 'dead'; reason: string }
  | { kind: 'busy'; reason: string };

/** The converters as the router sees them (the connection pool, or an in-memory stand-in). */
export type ConverterPort = {
  convert(endpoint: Endpoint, requestLine: string): Promise<HopAttempt>;
};

export type RouterOptions = {
  discovery: DiscoveryPort;
  converters: ConverterPort;
  pathTtlMs: number;
  staleTtlMs: number;
  /** How long a failed endpoint is ejected: base x 2^(ejections in a row - 1), capped. */
  ejection: EjectionPolicy;
  log: Logger;
  now?: () => number;
  /**
   * A view a watch of discovery feeds: first requests wait for its snapshot, or for news that
   * none is coming (see PoolView.settled). Without one, requests ask discovery.
   */
  view?: PoolView;
};

export type RouterStats = { requests: number; failovers: number; retries: number; reports: number; reroutes: number };

/** Endpoints tried per hop before giving up, whatever discovery keeps handing out. */
const MAX_ATTEMPTS_PER_HOP = 8;
/** LOOKUPs per failover: round robin may hand back an endpoint already tried. */
const MAX_LOOKUPS_PER_FAILOVER = 3;

/**
 * Answers conversion requests: finds the path (cache, then discovery), calls each hop in
 * order feeding each answer into the next, and fails over to another endpoint of the same
 * pair when one is dead. Socket-agnostic: discovery and converters are ports.
 */
export class Router {
  readonly stats: RouterStats = { requests: 0, failovers: 0, retries: 0, reports: 0, reroutes: 0 };
  readonly book: EndpointBook;
  /** Endpoints that timed out or failed, skipped for a time that grows while they keep failing. */
  readonly outliers: Outliers;
  readonly cache: PathCache;
  /** Every pool as discovery's watch shows it; used instead of LOOKUPs once synced. */
  readonly view: PoolView;
  readonly #discovery: DiscoveryPort;
  readonly #converters: ConverterPort;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #fetches = new Map<string, Promise<Result<readonly HopUnits[]>>>();

  constructor(options: RouterOptions) {
    this.#discovery = options.discovery;
    this.#converters = options.converters;
    this.#log = options.log;
    this.#now = options.now ?? Date.now;
    this.outliers = new Outliers(options.ejection);
    this.book = new EndpointBook(this.outliers);
    this.cache = new PathCache({ pathTtlMs: options.pathTtlMs, staleTtlMs: options.staleTtlMs });
    this.view = options.view ?? new PoolView();
    if (options.view === undefined) this.view.unavailable();
  }

  /**
   * The reply (with terminator) for a request: the converted amount or one FAILURE line; with
   * `trace`, preceded by one HOP line per conversion naming the server that answered it.
   */
  async answer(request: ConversionRequest, options: { trace?: boolean } = {}): Promise<string> {
    return (await this.reply(request, options)).text;
  }

  /** `answer`, with what came of it as a value (`ok` or the FAILURE code) for whoever counts. */
  async reply(request: ConversionRequest, options: { trace?: boolean } = {}): Promise<Answered> {
    this.stats.requests++;
    // Converting a unit to itself needs no server; discovery would call it SAME_UNIT.
    if (request.from === request.to) return { outcome: 'ok', text: formatConversionReply({ kind: 'amount', amount: request.amount }) };
    const trace: TracedHop[] | undefined = options.trace ? [] : undefined;
    const result = await this.convert(request, trace);
    const hops = trace?.map(formatTracedHop).join('') ?? '';
    return result.ok
      ? { outcome: 'ok', text: hops + formatConversionReply({ kind: 'amount', amount: result.value }) }
      : { outcome: result.failure.code, text: hops + formatFailure(result.failure) };
  }

  /** Converts along the path; each answered hop is appended to `trace` when one is given. */
  async convert(request: ConversionRequest, trace?: TracedHop[]): Promise<Result<number>> {
    const { from, to } = request;
    // The first requests wait for the watch's first snapshot (or for news that none is coming).
    if (!this.view.synced) await this.view.settled;
    if (this.view.synced) return this.#convertByView(request, trace);
    const cached = this.cache.lookup(from, to, this.#now());
    let hops: readonly HopUnits[];
    let fromCache = false;
    switch (cached.kind) {
      case 'fresh':
        hops = cached.hops;
        fromCache = true;
        break;
      case 'stale':
        hops = cached.hops;
        fromCache = true;
        this.#refreshInBackground(from, to);
        break;
      case 'miss': {
        const fetched = await this.#fetchPath(from, to);
        if (!fetched.ok) return fetched;
        hops = fetched.value;
      }
    }
    const result = await this.#runChain(hops, request.amount, trace);
    // A cached path whose pool ran dry may be routed around: ask discovery once for a new path.
    if (!result.ok && result.failure.code === 'UNAVAILABLE' && fromCache) {
      const fetched = await this.#fetchPath(from, to);
      if (!fetched.ok) {
        if (fetched.failure.code === 'UNAVAILABLE') return result;
        // Discovery knows no path and the cached one just failed too: now it is gone.
        this.cache.delete(from, to);
        return fetched;
      }
      if (samePath(fetched.value, hops) && !this.#anyEndpointLeft(hops)) return result;
      this.stats.reroutes++;
      this.#log.info('path-reroute', { from, to, hops: fetched.value.length });
      // The trace tells the route that answered, not the one abandoned.
      trace?.splice(0);
      return this.#runChain(fetched.value, request.amount, trace);
    }
    return result;
  }

  /** With a watched view: the path from it, each hop's endpoint from it, no discovery round trip. */
  #convertByView(request: ConversionRequest, trace?: TracedHop[]): Promise<Result<number>> {
    const path = this.view.path(request.from, request.to);
    if (!path.ok) return Promise.resolve(fail('NO_PATH', `No chain of healthy servers converts ${request.from} -> ${request.to}.`));
    return this.#runChain(path.hops.map((hop): HopUnits => [hop.from, hop.to]), request.amount, trace);
  }

  /** The next endpoint for a hop in round robin: from the view when it is synced, else from what LOOKUPs taught. */
  #pick(from: string, to: string, tried: ReadonlySet<string>): Endpoint | undefined {
    const now = this.#now();
    if (!this.view.synced) return this.book.pick(from, to, now, tried);
    return this.view.pick(from, to, (endpoint) => !tried.has(formatAddress(endpoint)) && !this.outliers.isEjected(endpoint, now));
  }

  async #runChain(hops: readonly HopUnits[], amount: number, trace?: TracedHop[]): Promise<Result<number>> {
    let value = amount;
    for (const hop of hops) {
      const result = await this.#callHop(hop, value, trace);
      if (!result.ok) return result;
      value = result.value;
    }
    return ok(value);
  }

  async #callHop(hop: HopUnits, amount: number, trace?: TracedHop[]): Promise<Result<number>> {
    const [from, to] = hop;
    const line = formatConversionRequest({ from, to, amount });
    const tried = new Set<string>();
    let lastResortUsed = false;
    for (let attempt = 0; attempt < MAX_ATTEMPTS_PER_HOP; attempt++) {
      let endpoint = this.#pick(from, to, tried);
      let lastResort = false;
      if (!endpoint && this.view.synced) {
        // Every `up` endpoint left is ejected: ejection is a preference, not a ban (Envoy's panic
        // mode), so they are tried in turn before anything `pending` or `down`.
        endpoint = this.view.pick(from, to, (e) => !tried.has(formatAddress(e)));
        if (endpoint) this.#log.info('hop-last-resort', { from, to, endpoint: formatAddress(endpoint), reason: 'every up endpoint is ejected' });
      }
      if (!endpoint && this.view.synced) {
        // The view is complete: no LOOKUP can offer more. Last resorts, the likeliest first: one
        // try of anything usable, then only endpoints seen `up` before (after a discovery
        // restart all are `pending` for a moment), never a second newcomer that may be a liar.
        endpoint = this.view.lastResort(from, to, tried, (e) => this.outliers.ejectedUntil(e), { provenOnly: lastResortUsed });
        if (!endpoint) break;
        lastResortUsed = true;
        lastResort = true;
        if (endpoint) this.#log.info('hop-last-resort', { from, to, endpoint: formatAddress(endpoint) });
      } else if (!endpoint) {
        const offered = await this.#lookupEndpoint(hop, tried);
        endpoint = offered.fresh;
        if (!endpoint && !lastResortUsed) {
          // Only endpoints that failed recently are left: try the likeliest once before failing
          // the client (discovery's pick first: it probed it since; else the oldest failure).
          lastResortUsed = true;
          endpoint = offered.suspect ?? this.book.lastResort(from, to, tried);
          lastResort = endpoint !== undefined;
          if (endpoint) this.#log.info('hop-last-resort', { from, to, endpoint: formatAddress(endpoint) });
        }
      }
      if (!endpoint) break;
      tried.add(formatAddress(endpoint));
      const attemptResult = await this.#converters.convert(endpoint, line);
      const verdict = attemptResult.kind === 'line' ? judgeHopReply(attemptResult.line) : attemptResult;
      switch (verdict.kind) {
        case 'amount':
          // An answer ends the streak: its next failure ejects it for the base time again.
          if (this.outliers.succeeded(endpoint)) this.#log.info('endpoint-restored', { endpoint: formatAddress(endpoint) });
          if (lastResort) this.book.learn(hop, endpoint);
          if (this.#log.level === 'debug') this.#log.debug('hop-answered', { from, to, endpoint: formatAddress(endpoint) });
          trace?.push({ from, to, endpoint, input: amount, output: verdict.amount });
          return ok(verdict.amount);
        case 'failed':
          return { ok: false, failure: upstreamFailure(hop, endpoint, verdict.failure) };
        case 'busy':
          this.stats.retries++;
          this.#log.info('hop-retry', { from, to, endpoint: formatAddress(endpoint), reason: verdict.reason, retries: this.stats.retries });
          break;
        case 'dead':
          this.stats.failovers++;
          this.#log.warn('hop-failover', { from, to, endpoint: formatAddress(endpoint), reason: verdict.reason, failovers: this.stats.failovers });
          this.#reportDead(endpoint, verdict.reason);
          break;
      }
    }
    return { ok: false, failure: unavailableHop(hop) };
  }

  /**
   * Asks discovery for another endpoint of the pair: `fresh` is one neither tried nor failed;
   * `suspect` one not tried for this request that failed recently but that discovery still
   * (or again) hands out.
   */
  async #lookupEndpoint(hop: HopUnits, tried: ReadonlySet<string>): Promise<{ fresh?: Endpoint; suspect?: Endpoint }> {
    let suspect: Endpoint | undefined;
    for (let i = 0; i < MAX_LOOKUPS_PER_FAILOVER; i++) {
      let reply: DiscoveryReply;
      try {
        reply = await this.#discovery.request({ verb: 'LOOKUP', units: [hop[0], hop[1]] });
      } catch {
        break;
      }
      if (reply.kind !== 'endpoint') break;
      const { endpoint } = reply;
      if (tried.has(formatAddress(endpoint))) continue;
      if (this.outliers.isEjected(endpoint, this.#now())) {
        suspect ??= endpoint;
        continue;
      }
      this.book.learn(hop, endpoint);
      return { fresh: endpoint };
    }
    return suspect ? { suspect } : {};
  }

  /**
   * Ejects the endpoint, forgets it (without a watch), and asks discovery to look, once per
   * ejection: a REPORT, which only asks for a probe, never a REMOVE (only discovery decides
   * down). A discovery server that lists no `report` (a course server) is told nothing.
   */
  #reportDead(endpoint: Endpoint, reason: string): void {
    const ejection = this.outliers.eject(endpoint, this.#now());
    this.book.forget(endpoint);
    if (!ejection.fresh) return;
    this.#log.warn('endpoint-ejected', { endpoint: formatAddress(endpoint), reason, consecutive: ejection.consecutive, ejectionMs: ejection.ejectionMs });
    if (!(this.#discovery.features ?? []).includes('report')) return;
    this.stats.reports++;
    this.#discovery.request({ verb: 'REPORT', endpoint, reason: reason.slice(0, 200) }).then(
      (reply) => this.#log.info('endpoint-reported', { endpoint: formatAddress(endpoint), reason, discovery: reply.kind === 'failure' ? reply.failure.code : 'SUCCESS' }),
      () => this.#log.debug('endpoint-report-skipped', { endpoint: formatAddress(endpoint), reason: 'discovery unreachable' }),
    );
  }

  #anyEndpointLeft(hops: readonly HopUnits[]): boolean {
    const now = this.#now();
    return hops.every(([a, b]) => this.book.pick(a, b, now) !== undefined);
  }

  #refreshInBackground(from: string, to: string): void {
    // Errors are already turned into results by #fetchPath; nothing to do with the outcome here.
    void this.#fetchPath(from, to);
  }

  /** LOOKUP_MULTI, one in flight per direction; learns the path and every endpoint it names. */
  #fetchPath(from: string, to: string): Promise<Result<readonly HopUnits[]>> {
    const key = `${from} ${to}`;
    const inFlight = this.#fetches.get(key);
    if (inFlight) return inFlight;
    const fetching = this.#askPath(from, to).finally(() => this.#fetches.delete(key));
    this.#fetches.set(key, fetching);
    return fetching;
  }

  async #askPath(from: string, to: string): Promise<Result<readonly HopUnits[]>> {
    let reply: DiscoveryReply;
    try {
      reply = await this.#discovery.request({ verb: 'LOOKUP_MULTI', from, to });
    } catch {
      return fail('UNAVAILABLE', `discovery at ${formatAddress(this.#discovery.address)} is unreachable and no recent path from ${from} to ${to} is cached.`);
    }
    switch (reply.kind) {
      case 'path': {
        const hops = reply.hops.map((hop): HopUnits => [hop.from, hop.to]);
        for (const hop of reply.hops) this.book.learn([hop.from, hop.to], hop.endpoint);
        this.cache.store(from, to, hops, this.#now());
        return ok(hops);
      }
      case 'failure':
        // NO_PATH, SAME_UNIT, UNKNOWN_PAIR...: discovery's own answer, passed through unchanged.
        // A cached path is not dropped for it: discovery may know no replica of a pair for a
        // moment (all reported dead, one alive again but not yet re-registered) while the path
        // still answers. It goes when its hops fail (see convert) or it passes the stale TTL.
        return { ok: false, failure: reply.failure };
      case 'success':
      case 'endpoint':
      case 'pong':
      case 'list':
      case 'help':
      case 'session':
      case 'features':
      case 'synced':
        return { ok: false, failure: unexpectedReply(reply.kind) };
    }
  }
}

function samePath(a: readonly HopUnits[], b: readonly HopUnits[]): boolean {
  return a.length === b.length && a.every((hop, i) => hop[0] === b[i]?.[0] && hop[1] === b[i]?.[1]);
}

function unexpectedReply(kind: string): Failure {
  return failure('INTERNAL', `discovery answered LOOKUP_MULTI with a ${kind} reply.`);
}
