import type { Endpoint } from '@conv/registry';

/** The socket's remote address as discovery compares it: IPv4-mapped IPv6 written as IPv4. */
export function normalizePeerAddress(address: string | undefined): string {
  if (address === undefined) return '';
  const lower = address.toLowerCase();
  return lower.startsWith('::ffff:') && lower.includes('.') ? lower.slice('::ffff:'.length) : lower;
}

export function isLoopback(address: string): boolean {
  return address === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(address);
}

/**
 * True when a request from `peer` comes from the endpoint's own host, i.e. the server itself is
 * leaving. A DNS name is not resolved (that would put a lookup on the request path): only
 * `localhost` counts, and only from a loopback peer.
 */
export function isOwnAddress(peer: string, endpoint: Endpoint): boolean {
  if (peer === '') return false;
  if (endpoint.host === peer) return true;
  return endpoint.host === 'localhost' && isLoopback(peer);
}
