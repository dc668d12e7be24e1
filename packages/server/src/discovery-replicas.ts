import { type DiscoveryReply, type DiscoveryRequest, type Endpoint, formatAddress } from '@conv/protocol';
import { RETURN_AFTER_MS, askDiscovery, isUnavailable } from './discovery-client';
import { ServerError } from './errors';
import type { Logger } from './log';

/**
 * A list of discovery replicas (`--discovery a,b`) asked one request per connection: each goes
 * to the replica that answered last; when it is unreachable, silent or answers UNAVAILABLE the
 * next ones are tried in turn, within the same request, and the first that answers becomes the
 * current one; `returnAfterMs` after leaving the first-listed replica, requests go to it again.
 * Every replica failing: the request fails with the last one's error, as with one address, or
 * answers UNAVAILABLE if one of them did (an answer beats none).
 */
export class DiscoveryReplicas {
  readonly #addresses: readonly Endpoint[];
  readonly #log: Logger;
  readonly #returnAfterMs: number;
  #current = 0;
  /** When requests last moved away from the first-listed replica. */
  #leftFirstAt: number | undefined;

  constructor(addresses: readonly Endpoint[], log: Logger, options: { returnAfterMs?: number } = {}) {
    if (addresses.length === 0) throw new ServerError('USAGE', 'at least one discovery address is needed');
    this.#addresses = addresses;
    this.#log = log;
    this.#returnAfterMs = options.returnAfterMs ?? RETURN_AFTER_MS;
  }

  /** The replica requests go to now. */
  get current(): Endpoint {
    return this.#addresses[this.#current] ?? this.#addresses[0]!;
  }

  async request(request: DiscoveryRequest, timeoutMs: number): Promise<DiscoveryReply> {
    if (this.#current !== 0 && this.#leftFirstAt !== undefined && Date.now() - this.#leftFirstAt >= this.#returnAfterMs) {
      this.#log.info('discovery-return', { from: formatAddress(this.current), to: formatAddress(this.#addresses[0]!) });
      this.#current = 0;
      this.#leftFirstAt = undefined;
    }
    let lastError: unknown;
    let unavailable: DiscoveryReply | undefined;
    for (let tried = 0; tried < this.#addresses.length; tried++) {
      const index = (this.#current + tried) % this.#addresses.length;
      const address = this.#addresses[index]!;
      try {
        const reply = await askDiscovery(address, request, { timeoutMs });
        if (isUnavailable(reply) && tried < this.#addresses.length - 1) {
          this.#log.warn('discovery-replica-unavailable', { address: formatAddress(address), verb: request.verb, trying: formatAddress(this.#addresses[(index + 1) % this.#addresses.length]!) });
          unavailable = reply;
          continue;
        }
        if (index !== this.#current) {
          this.#log.info('discovery-failover', { from: formatAddress(this.current), to: formatAddress(address) });
          this.#current = index;
          this.#leftFirstAt = index === 0 ? undefined : Date.now();
        }
        return reply;
      } catch (error) {
        lastError = error;
      }
    }
    if (unavailable !== undefined) return unavailable;
    throw lastError instanceof Error ? lastError : new ServerError('DISCOVERY_UNREACHABLE', String(lastError));
  }
}
