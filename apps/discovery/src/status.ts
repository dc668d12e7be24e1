import { type StatusEndpoint, type StatusReport, formatAddress } from '@conv/protocol';
import type { EndpointRegistry } from '@conv/registry';
import { layoutUnitGraph } from './graph-layout';

export type { StatusReport };

export type StatusMeta = { address: string; registry: string; shared: boolean; pid: number; startedAt: number; now: number };

/** A snapshot of the registry as a plain object; reads only (the round-robin cursor does not move). */
export function statusReport(registry: EndpointRegistry, meta: StatusMeta): StatusReport {
  const pools = new Map<string, { pair: [string, string]; endpoints: StatusEndpoint[]; up: number; next: string | null }>();
  for (const registration of registry.registrations()) {
    const key = `${registration.pair[0]}\n${registration.pair[1]}`;
    let pool = pools.get(key);
    if (pool === undefined) {
      const next = registry.peekNext(registration.pair);
      pool = { pair: [registration.pair[0], registration.pair[1]] as [string, string], endpoints: [], up: 0, next: next === undefined ? null : formatAddress(next) };
      pools.set(key, pool);
    }
    const { host, port } = registration.endpoint;
    if (registration.health === 'up') pool.up++;
    pool.endpoints.push({
      address: formatAddress(registration.endpoint),
      host,
      port,
      health: registration.health,
      lastCheck: registration.lastCheck ?? null,
      healthSince: registration.healthSince,
      served: registration.served,
      next: pool.next === formatAddress(registration.endpoint),
      lease: registration.leaseMs === undefined ? null : { ms: registration.leaseMs, expiresAt: registration.leaseExpiresAt ?? null, lapsed: registration.lapsed },
      lapses: registration.lapses,
    });
  }
  const listed = [...pools.values()].map((pool) => ({ ...pool, next: pool.endpoints.find((e) => e.next)?.address ?? null }));
  const units = [...new Set(listed.flatMap((pool) => pool.pair))].sort();
  const edges = listed
    .map((pool) => ({ pair: pool.pair, alive: pool.up > 0 }))
    .sort((x, y) => (x.pair[0] === y.pair[0] ? (x.pair[1] < y.pair[1] ? -1 : 1) : x.pair[0] < y.pair[0] ? -1 : 1));
  const layout = layoutUnitGraph(units, edges.map((edge) => edge.pair));
  const { address, shared, pid, startedAt, now } = meta;
  return { service: 'discovery', address, registry: meta.registry, shared, pid, startedAt, now, counts: registry.counts(), pools: listed, graph: { units, edges, layout } };
}
