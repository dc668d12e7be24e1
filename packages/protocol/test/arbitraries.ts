import fc from 'fast-check';
import { type DiscoveryReply, type DiscoveryRequest, FAILURE_CODES, type Failure, MAX_LEASE_MS, MIN_LEASE_MS, formatAmount, parseHost, parsePort } from '../src/index';

/** Generators for valid protocol values; every value they make satisfies the zod schemas. */
export const unit = fc.stringMatching(/^[A-Za-z$µ¥€][A-Za-z0-9$_.-]{0,7}$/).filter((u) => u !== 'END');
export const ipv4 = fc.ipV4();
export const host = fc.oneof(
  ipv4,
  fc.constantFrom('localhost', '::1', '2001:db8::1', 'conv-1.example'),
  fc.domain().filter((d) => d.length <= 253 && !/^[0-9.]+$/.test(d)),
);
export const port = fc.integer({ min: 1, max: 65535 });
export const endpoint = fc.record({ host, port });
export const units = fc.tuple(unit, unit);
/** Amounts as the wire carries them: already rounded to 15 significant digits. */
export const amount = fc.double({ noNaN: true, noDefaultInfinity: true }).map((x) => Number(formatAmount(x)));
export const failureValue: fc.Arbitrary<Failure> = fc
  .record({ code: fc.constantFrom(...FAILURE_CODES), message: fc.stringMatching(/^[a-z][a-z .,;"'0-9-]{0,60}$/) })
  .map(({ code, message }) => ({ code, message: message.trim() || 'x' }));

export function epoch(): fc.Arbitrary<string> {
  return fc.stringMatching(/^[A-Za-z0-9._-]{1,24}$/);
}
export const watchSeq = fc.nat({ max: Number.MAX_SAFE_INTEGER });
export const health = fc.constantFrom('pending' as const, 'up' as const, 'down' as const, 'wrong' as const);

export const token = fc.stringMatching(/^[\x21-\x7e]{1,40}$/);
export const leaseMs = fc.integer({ min: MIN_LEASE_MS, max: MAX_LEASE_MS });

export const discoveryRequest: fc.Arbitrary<DiscoveryRequest> = fc.oneof(
  fc.record({ verb: fc.constant('ADD' as const), units, endpoint, leaseMs, token }, { requiredKeys: ['verb', 'units', 'endpoint'] }),
  fc.record({ verb: fc.constant('REMOVE' as const), endpoint, token }, { requiredKeys: ['verb', 'endpoint'] }),
  fc.record({ verb: fc.constant('LOOKUP' as const), units }),
  fc.record({ verb: fc.constant('LOOKUP_MULTI' as const), from: unit, to: unit }),
  // A pair whose second unit reads as a port after a first that reads as a host is the host form.
  fc
    .record({ verb: fc.constant('REMOVE_PAIR' as const), units, token }, { requiredKeys: ['verb', 'units'] })
    .filter(({ units: [a, b] }) => !(parseHost(a).ok && parsePort(b).ok)),
  fc.constantFrom({ verb: 'PING' as const }, { verb: 'LIST' as const }, { verb: 'HELP' as const }, { verb: 'SESSION' as const }, { verb: 'FEATURES' as const }),
  fc.record(
    { verb: fc.constant('WATCH' as const), from: fc.record({ epoch: epoch(), seq: watchSeq }), name: fc.stringMatching(/^[\x21-\x7e]{1,20}$/), httpPort: port },
    { requiredKeys: ['verb'] },
  ),
);

export const discoveryReply: fc.Arbitrary<DiscoveryReply> = fc.oneof(
  fc.constant({ kind: 'success' as const }),
  fc.constant({ kind: 'pong' as const }),
  fc.constant({ kind: 'session' as const }),
  fc.record({ kind: fc.constant('features' as const), features: fc.array(fc.stringMatching(/^[a-z][a-z0-9-]{0,12}$/), { maxLength: 6 }) }),
  fc.record({ kind: fc.constant('endpoint' as const), endpoint }),
  fc.record({
    kind: fc.constant('path' as const),
    hops: fc.array(fc.record({ from: unit, to: unit, endpoint }), { minLength: 1, maxLength: 6 }),
  }),
  fc.record({
    kind: fc.constant('list' as const),
    registrations: fc.array(
      fc.oneof(fc.record({ units, endpoint, health }), fc.record({ units, endpoint, health, leaseMs, lapsed: fc.boolean() })),
      { maxLength: 6 },
    ),
  }),
  fc.record({
    kind: fc.constant('synced' as const),
    entries: fc.array(fc.record({ units, endpoint, health }), { maxLength: 6 }),
    position: fc.record({ epoch: epoch(), seq: watchSeq }),
  }),
  fc.record({
    kind: fc.constant('help' as const),
    lines: fc.array(fc.stringMatching(/^[A-Za-z<>][A-Za-z0-9 <>,.:-]{0,40}$/), { maxLength: 5 }),
  }),
  fc.record({ kind: fc.constant('failure' as const), failure: failureValue }),
);
