import { createHash, timingSafeEqual } from 'node:crypto';
import type { Endpoint } from '@conv/protocol';
import { isLoopbackAddress } from '@conv/server';

// Who may change the registry (see the README's section of that name): the endpoint's own host,
// or whoever holds the registry's token; anyone else's REMOVE is a report.

/** What a configured token is kept as: its digest, so that comparing takes the same time whatever is sent. */
export function tokenDigest(secret: string): Buffer {
  return createHash('sha256').update(secret, 'utf8').digest();
}

/** Equal-length digests compared in constant time: timing reveals nothing about the secret. */
export function tokenMatches(token: string | undefined, digest: Buffer): boolean {
  return token !== undefined && timingSafeEqual(tokenDigest(token), digest);
}

/**
 * True when a request from `peer` comes from the endpoint's own host, i.e. the server itself is
 * leaving. A DNS name is not resolved (that would put a lookup on the request path): only
 * `localhost` counts, and only from a loopback peer.
 */
export function isOwnAddress(peer: string, endpoint: Endpoint): boolean {
  if (peer === '') return false;
  if (endpoint.host === peer) return true;
  return endpoint.host === 'localhost' && isLoopbackAddress(peer);
}
