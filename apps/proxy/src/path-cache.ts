/** One hop of a path, as units only: the endpoints live in the EndpointBook. */
export type HopUnits = readonly [from: string, to: string];

export type PathTtls = { readonly pathTtlMs: number; readonly staleTtlMs: number };

/**
 * What to do with a cached path at `now`:
 * - `fresh`: younger than the path TTL, use it;
 * - `stale`: older, but younger than the stale TTL: use it and refresh it in the background
 *   (while discovery is unreachable this is what keeps the proxy answering);
 * - `miss`: nothing cached, or too old to trust: ask discovery and wait.
 */
export type CacheDecision =
  | { kind: 'fresh'; hops: readonly HopUnits[] }
  | { kind: 'stale'; hops: readonly HopUnits[]; ageMs: number }
  | { kind: 'miss' };

export function decide(entry: { hops: readonly HopUnits[]; fetchedAt: number } | undefined, now: number, ttls: PathTtls): CacheDecision {
  if (!entry) return { kind: 'miss' };
  const ageMs = now - entry.fetchedAt;
  if (ageMs < ttls.pathTtlMs) return { kind: 'fresh', hops: entry.hops };
  if (ageMs < ttls.staleTtlMs) return { kind: 'stale', hops: entry.hops, ageMs };
  return { kind: 'miss' };
}

/** Paths learned from discovery, by direction (`from -> to`), with the time they were learned. */
export class PathCache {
  readonly #entries = new Map<string, { hops: readonly HopUnits[]; fetchedAt: number }>();

  constructor(private readonly ttls: PathTtls) {}

  lookup(from: string, to: string, now: number): CacheDecision {
    const key = `${from} ${to}`;
    const entry = this.#entries.get(key);
    const decision = decide(entry, now, this.ttls);
    // Entries past the stale TTL are never used again: drop them so the cache stays small.
    if (entry && decision.kind === 'miss') this.#entries.delete(key);
    return decision;
  }

  store(from: string, to: string, hops: readonly HopUnits[], now: number): void {
    this.#entries.set(`${from} ${to}`, { hops, fetchedAt: now });
  }

  delete(from: string, to: string): void {
    this.#entries.delete(`${from} ${to}`);
  }

  get size(): number {
    return this.#entries.size;
  }
}
