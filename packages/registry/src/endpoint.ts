import { type Endpoint, type UnitPair, MAX_UNIT_LENGTH, canonicalHost, isUnit, quote } from '@conv/protocol';
import { RegistryError } from './errors';

// The words are the protocol's: a registry pools exactly what the wire can name.
export type { Endpoint, UnitPair };

function checkUnit(unit: unknown, a: unknown, b: unknown): asserts unit is string {
  if (!isUnit(unit)) {
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
 * Validates and canonicalizes an endpoint (the protocol's host spelling: lower case, compressed
 * IPv6, brackets accepted), so every spelling of one address is one endpoint. The result is frozen.
 */
export function endpointOf(host: string, port: number): Endpoint {
  const given = { host, port };
  const canonical = typeof host === 'string' ? canonicalHost(unbracket(host)) : undefined;
  if (canonical === undefined) {
    throw new RegistryError('INVALID_ENDPOINT', `Expected an IPv4 address, an IPv6 address or a DNS name, received ${quote(given)}.`);
  }
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65_535) {
    throw new RegistryError('INVALID_ENDPOINT', `Expected an integer port 1..65535, received ${quote(given)}.`);
  }
  return Object.freeze({ host: canonical, port });
}

/**
 * The key an endpoint is kept under: its address as the protocol writes it (`[::1]:4000`), from
 * any spelling of the host, so a lookup with odd input simply finds nothing instead of throwing.
 */
export function keyOf(endpoint: Endpoint): string {
  const bare = unbracket(endpoint.host);
  const host = canonicalHost(bare) ?? bare.toLowerCase();
  // formatAddress's spelling, joined rather than concatenated: a key lives as long as its entry,
  // and a concatenation is kept as a tree of three strings (88 bytes for `127.0.0.1:10000`), a
  // join as one flat string (40): 4.6 MB of a registry of 100,000.
  return [host.includes(':') ? `[${host}]` : host, endpoint.port].join(':');
}

function unbracket(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}
