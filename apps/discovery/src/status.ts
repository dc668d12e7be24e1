import { type Health, type EndpointRegistry, endpointKey } from '@conv/registry';
import { type GraphLayout, layoutUnitGraph } from './graph-layout';

/** One endpoint of a pool as the status page and `conv status` show it. */
export type StatusEndpoint = {
  /** `127.0.0.1:6001`, IPv6 in brackets. */
  readonly address: string;
  readonly host: string;
  readonly port: number;
  readonly health: Health;
  /** Epoch ms of the last probe, or null before the first. */
  readonly lastCheck: number | null;
  /** Epoch ms of the last health change. */
  readonly healthSince: number;
  /**
   * Times discovery handed this endpoint out (LOOKUP, LOOKUP_MULTI) since it registered; with
   * the SQLite registry this survives a restart (flushed every few seconds and on shutdown),
   * with --store etcd it counts this replica's answers since it started.
   */
  readonly served: number;
  /** Whether it is the one the pool's round robin hands out next. */
  readonly next: boolean;
};

export type StatusPool = {
  readonly pair: readonly [string, string];
  readonly up: number;
  /** Address of the endpoint handed out next, or null when none is up. */
  readonly next: string | null;
  readonly endpoints: readonly StatusEndpoint[];
};

/** `GET /status.json`: everything the status page draws, for scripts too. */
export type StatusReport = {
  readonly service: 'discovery';
  /** The protocol address (`127.0.0.1:5555`): which discovery server (or replica) this is. */
  readonly address: string;
  /** Where its registry lives: the SQLite file, or the etcd store it shares with other replicas. */
  readonly registry: string;
  /** True when replicas share the registry: round robin and served counts are this replica's own. */
  readonly shared: boolean;
  readonly pid: number;
  readonly startedAt: number;
  readonly now: number;
  readonly counts: { readonly pools: number; readonly endpoints: number; readonly up: number; readonly down: number; readonly pending: number; readonly wrong: number };
  readonly pools: readonly StatusPool[];
  /**
   * The unit graph: units are nodes, pools are edges; an edge with no endpoint up is dead.
   * `layout` places the units so that paths read left to right (graph-layout.ts).
   */
  readonly graph: {
    readonly units: readonly string[];
    readonly edges: readonly { readonly pair: readonly [string, string]; readonly alive: boolean }[];
    readonly layout: GraphLayout;
  };
};

export type StatusMeta = { address: string; registry: string; shared: boolean; pid: number; startedAt: number; now: number };

const show = (host: string, port: number) => (host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`);

/** A snapshot of the registry as a plain object; reads only (the round-robin cursor does not move). */
export function statusReport(registry: EndpointRegistry, meta: StatusMeta): StatusReport {
  const pools = new Map<string, { pair: readonly [string, string]; endpoints: StatusEndpoint[]; up: number; next: string | null }>();
  for (const registration of registry.registrations()) {
    const key = `${registration.pair[0]}\n${registration.pair[1]}`;
    let pool = pools.get(key);
    if (pool === undefined) {
      const next = registry.peekNext(registration.pair);
      pool = { pair: [registration.pair[0], registration.pair[1]], endpoints: [], up: 0, next: next === undefined ? null : endpointKey(next) };
      pools.set(key, pool);
    }
    const { host, port } = registration.endpoint;
    if (registration.health === 'up') pool.up++;
    pool.endpoints.push({
      address: show(host, port),
      host,
      port,
      health: registration.health,
      lastCheck: registration.lastCheck ?? null,
      healthSince: registration.healthSince,
      served: registration.served,
      next: pool.next === endpointKey(registration.endpoint),
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
