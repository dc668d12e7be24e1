import { RegistryError, quote } from './errors';

export type Endpoint = { readonly host: string; readonly port: number };

/** An unordered pair of units in canonical form: sorted, so `a <= b`. */
export type UnitPair = readonly [string, string];

// Units and hosts travel as whitespace-separated words on the wire, so whitespace or control
// characters inside one can only be a parsing mistake upstream.
const BAD_WORD = /[\s\p{Cc}]/u;
const MAX_UNIT_LENGTH = 64;
const MAX_HOST_LENGTH = 253;

function checkUnit(unit: unknown, a: unknown, b: unknown): asserts unit is string {
  if (typeof unit !== 'string' || unit.length === 0 || unit.length > MAX_UNIT_LENGTH || BAD_WORD.test(unit)) {
    throw new RegistryError(
      'INVALID_PAIR',
      `Expected two units of 1..${MAX_UNIT_LENGTH} characters without whitespace, received ${quote(a)} and ${quote(b)}.`,
    );
  }
}

/** Builds the canonical pair: `unitPair('in', 'ft')` and `unitPair('ft', 'in')` are equal. */
export function unitPair(a: string, b: string): UnitPair {
  checkUnit(a, a, b);
  checkUnit(b, a, b);
  if (a === b) {
    // A pair of one unit with itself converts nothing and would be a self-loop in the path graph.
    throw new RegistryError('INVALID_PAIR', `Expected two different units, received ${quote(a)} twice.`);
  }
  return Object.freeze(a < b ? [a, b] as const : [b, a] as const);
}

/** True when `pair` is already canonical (what `unitPair` would return for it). */
export function isUnitPair(pair: unknown): pair is UnitPair {
  if (!Array.isArray(pair) || pair.length !== 2) return false;
  const [a, b] = pair as unknown[];
  try {
    const canonical = unitPair(a as string, b as string);
    return canonical[0] === a && canonical[1] === b;
  } catch {
    return false;
  }
}

/**
 * The host as the registry stores it: lowercase (DNS names and IPv6 hex are case-insensitive)
 * and, for IPv6, in the compressed form, so `0:0:0:0:0:0:0:1` and `[::1]` name one endpoint.
 * Never throws: lookups with odd input simply find nothing.
 */
export function canonicalHost(host: string): string {
  let h = host.toLowerCase();
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1);
  if (h.includes(':')) {
    try {
      h = new URL(`http://[${h}]/`).hostname.slice(1, -1);
    } catch {
      // Not a valid IPv6 literal: keep it as typed; `endpointOf` refuses it anyway.
    }
  }
  return h;
}

/** The endpoint's identity as text: `127.0.0.1:4000`, `[::1]:4000`. */
export function endpointKey(endpoint: Endpoint): string {
  const host = canonicalHost(endpoint.host);
  return host.includes(':') ? `[${host}]:${endpoint.port}` : `${host}:${endpoint.port}`;
}

/** Validates and canonicalizes an endpoint; the result is frozen. */
export function endpointOf(host: string, port: number): Endpoint {
  const given = { host, port };
  if (typeof host !== 'string' || host.length === 0 || host.length > MAX_HOST_LENGTH + 2 || BAD_WORD.test(host)) {
    throw new RegistryError(
      'INVALID_ENDPOINT',
      `Expected a host of 1..${MAX_HOST_LENGTH} characters without whitespace, received ${quote(given)}.`,
    );
  }
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65_535) {
    throw new RegistryError('INVALID_ENDPOINT', `Expected an integer port 1..65535, received ${quote(given)}.`);
  }
  const canonical = canonicalHost(host);
  if (canonical.includes(':') && !isIpv6Literal(canonical)) {
    throw new RegistryError('INVALID_ENDPOINT', `Expected a valid IPv6 address, received ${quote(given)}.`);
  }
  return Object.freeze({ host: canonical, port });
}

function isIpv6Literal(host: string): boolean {
  try {
    return new URL(`http://[${host}]/`).hostname === `[${host}]`;
  } catch {
    return false;
  }
}
