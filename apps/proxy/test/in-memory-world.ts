import {
  type DiscoveryReply,
  type DiscoveryRequest,
  type Endpoint,
  failure,
  formatAmount,
  formatFailure,
  parseConversionRequest,
  formatAddress,
  type ConversionRequest,
} from '@conv/protocol';
import { expect } from 'vitest';
import { pairKey } from '../src/endpoint-book';
import { silentLogger } from '@conv/server';
import { type ConverterPort, type DiscoveryPort, type HopAttempt, Router } from '../src/router';

/** How an in-memory converter behaves when called. */
export type Behaviour = 'ok' | 'dead' | 'wrong-pair' | 'garbage' | 'refuses-request' | 'busy';

type Converter = { units: readonly [string, string]; factor: number; behaviour: Behaviour; calls: number };

/**
 * The outside world of the router, in memory: a discovery server with round-robin pools and
 * scripted paths, and converters multiplying by a factor. Not our code: a stand-in for the
 * other processes, so the router's decisions are tested without sockets or timers.
 */
export class World {
  readonly converters = new Map<string, Converter>();
  readonly pools = new Map<string, { endpoints: Endpoint[]; next: number }>();
  readonly paths = new Map<string, (readonly [string, string])[]>();
  readonly discoveryRequests: DiscoveryRequest[] = [];
  readonly reports: Endpoint[] = [];
  discoveryUp = true;
  clock = 1_000_000;
  #nextPort = 4000;

  /** Registers a converter for `units` converting units[0] -> units[1] by `factor`. */
  add(units: readonly [string, string], factor: number, behaviour: Behaviour = 'ok'): Endpoint {
    const endpoint = { host: '127.0.0.1', port: this.#nextPort++ };
    this.converters.set(formatAddress(endpoint), { units, factor, behaviour, calls: 0 });
    const key = pairKey(units[0], units[1]);
    const pool = this.pools.get(key) ?? { endpoints: [], next: 0 };
    pool.endpoints.push(endpoint);
    this.pools.set(key, pool);
    return endpoint;
  }

  path(from: string, to: string, hops: (readonly [string, string])[]): void {
    this.paths.set(`${from} ${to}`, hops);
  }

  converter(endpoint: Endpoint): Converter {
    const found = this.converters.get(formatAddress(endpoint));
    if (!found) throw new Error(`no converter at ${formatAddress(endpoint)}`);
    return found;
  }

  #lookup(a: string, b: string): Endpoint | undefined {
    const pool = this.pools.get(pairKey(a, b));
    if (!pool || pool.endpoints.length === 0) return undefined;
    const endpoint = pool.endpoints[pool.next % pool.endpoints.length];
    pool.next = (pool.next + 1) % pool.endpoints.length;
    return endpoint;
  }

  readonly discovery: DiscoveryPort = {
    address: { host: '127.0.0.1', port: 5555 },
    features: ['session', 'report'],
    request: (request: DiscoveryRequest): Promise<DiscoveryReply> => {
      this.discoveryRequests.push(request);
      if (!this.discoveryUp) return Promise.reject(new Error('discovery down'));
      switch (request.verb) {
        case 'LOOKUP': {
          const endpoint = this.#lookup(request.units[0], request.units[1]);
          return Promise.resolve(
            endpoint
              ? { kind: 'endpoint', endpoint }
              : { kind: 'failure', failure: failure('UNKNOWN_PAIR', `No healthy server converts ${request.units.join(' <-> ')}.`) },
          );
        }
        case 'LOOKUP_MULTI': {
          const hops = this.paths.get(`${request.from} ${request.to}`);
          if (!hops) return Promise.resolve({ kind: 'failure', failure: failure('NO_PATH', `No path from ${request.from} to ${request.to}.`) });
          const withEndpoints = hops.map(([from, to]) => ({ from, to, endpoint: this.#lookup(from, to) }));
          if (withEndpoints.some((hop) => !hop.endpoint)) {
            return Promise.resolve({ kind: 'failure', failure: failure('NO_PATH', `No path from ${request.from} to ${request.to}.`) });
          }
          return Promise.resolve({ kind: 'path', hops: withEndpoints.map((hop) => ({ ...hop, endpoint: hop.endpoint as Endpoint })) });
        }
        // A report makes this stand-in's discovery probe at once and find the endpoint dead
        // (the world reports only endpoints it made dead), so it leaves the pool.
        case 'REPORT':
        case 'REMOVE': {
          this.reports.push(request.endpoint);
          for (const pool of this.pools.values()) {
            pool.endpoints = pool.endpoints.filter((e) => formatAddress(e) !== formatAddress(request.endpoint));
          }
          return Promise.resolve({ kind: 'success' });
        }
        case 'ADD':
        case 'PING':
        case 'LIST':
        case 'HELP':
        case 'REMOVE_PAIR':
        case 'SESSION':
        case 'FEATURES':
        case 'WATCH':
          return Promise.resolve({ kind: 'failure', failure: failure('INTERNAL', 'not scripted') });
      }
    },
  };

  readonly converterPort: ConverterPort = {
    convert: (endpoint: Endpoint, line: string): Promise<HopAttempt> => {
      const converter = this.converters.get(formatAddress(endpoint));
      if (!converter) return Promise.resolve({ kind: 'dead', reason: 'connect failed: ECONNREFUSED' });
      converter.calls++;
      const request = parseConversionRequest(line.trimEnd());
      const [a, b] = converter.units;
      const answer = (text: string): Promise<HopAttempt> => Promise.resolve({ kind: 'line', line: text.trimEnd() });
      switch (converter.behaviour) {
        case 'dead':
          return Promise.resolve({ kind: 'dead', reason: 'no answer within 1000ms' });
        case 'garbage':
          return answer('hello there');
        case 'busy':
          return answer(formatFailure(failure('TOO_MANY_CONNECTIONS', 'busy')));
        case 'refuses-request':
          return answer(formatFailure(failure('BAD_AMOUNT', '"x" is not a decimal number.')));
        case 'wrong-pair':
        case 'ok':
          break;
      }
      if (!request.ok) return answer(formatFailure(request.failure));
      const { from, to, amount } = request.value;
      if (converter.behaviour === 'ok' && from === a && to === b) return answer(formatAmount(amount * converter.factor));
      if (converter.behaviour === 'ok' && from === b && to === a) return answer(formatAmount(amount / converter.factor));
      return answer(formatFailure(failure('WRONG_PAIR', `This server converts ${a} <-> ${b} only.`)));
    },
  };

  router(options: { pathTtlMs?: number; staleTtlMs?: number; failedTtlMs?: number } = {}): Router {
    return new Router({
      discovery: this.discovery,
      converters: this.converterPort,
      pathTtlMs: options.pathTtlMs ?? 2000,
      staleTtlMs: options.staleTtlMs ?? 300_000,
      // The old fixed skip time is the base ejection; the cap keeps it from growing in these tests.
      ejection: { baseMs: options.failedTtlMs ?? 3000, maxMs: options.failedTtlMs ?? 3000 },
      log: silentLogger,
      now: () => this.clock,
    });
  }
}

/** A conversion request line, parsed (a test's own lines are well formed). */
export function request(line: string): ConversionRequest {
  const parsed = parseConversionRequest(line);
  if (!parsed.ok) throw new Error(parsed.failure.message);
  return parsed.value;
}

/**
 * The only ft:in replica was dead when first called (the router marked it failed), then came
 * back and registered again: what the router does next is the test. Returns the router and it.
 */
export async function aReplicaThatFailedAndCameBack(world: World, failedTtlMs: number): Promise<{ router: Router; flaky: Endpoint }> {
  const flaky = world.add(['ft', 'in'], 12, 'dead');
  world.path('ft', 'in', [['ft', 'in']]);
  const router = world.router({ failedTtlMs });
  expect(await router.answer(request('ft in 1'))).toMatch(/\(UNAVAILABLE\)/);
  world.converter(flaky).behaviour = 'ok';
  world.pools.get('ft in')?.endpoints.push(flaky);
  return { router, flaky };
}
