import { z } from 'zod';
import { HealthSchema } from './discovery-reply';

// `GET /status.json` on discovery's operator port: the status page draws it, `conv status` and
// scripts read it. Discovery writes this shape and every reader checks it at its edge, so the
// schema lives here, once.

/** One endpoint of a pool as the status page and `conv status` show it. */
export const StatusEndpointSchema = z.object({
  /** `127.0.0.1:6001`, IPv6 in brackets. */
  address: z.string(),
  host: z.string(),
  port: z.number(),
  health: HealthSchema,
  /** Epoch ms of the last probe, or null before the first. */
  lastCheck: z.number().nullable(),
  /** Epoch ms of the last health change. */
  healthSince: z.number(),
  /**
   * Times discovery handed this endpoint out (LOOKUP, LOOKUP_MULTI) since it registered; with
   * the SQLite registry this survives a restart, with an etcd store it is this replica's count.
   */
  served: z.number(),
  /** Whether it is the one the pool's round robin hands out next. */
  next: z.boolean(),
  /**
   * Its lease (ADD ... lease=), or null for a registration that never heartbeats (probed only).
   * `expiresAt` (epoch ms) is when it lapses unless renewed, null where this replica cannot
   * know it (an etcd store's lease, renewed through another replica); `lapsed` while it has.
   * Defaults let a reader take a page from a discovery without leases.
   */
  lease: z.object({ ms: z.number(), expiresAt: z.number().nullable(), lapsed: z.boolean() }).nullable().default(null),
  /** How often its lease has lapsed since it registered (this process). */
  lapses: z.number().default(0),
});
export type StatusEndpoint = z.infer<typeof StatusEndpointSchema>;

export const StatusPoolSchema = z.object({
  pair: z.tuple([z.string(), z.string()]),
  up: z.number(),
  /** Address of the endpoint handed out next, or null when none is up. */
  next: z.string().nullable(),
  endpoints: z.array(StatusEndpointSchema),
});
export type StatusPool = z.infer<typeof StatusPoolSchema>;

/** Where the page draws a unit: columns (`layer`) so that paths read left to right. */
export const LayoutNodeSchema = z.object({ unit: z.string(), layer: z.number(), x: z.number(), y: z.number() });
export type LayoutNode = z.infer<typeof LayoutNodeSchema>;
export const GraphLayoutSchema = z.object({ width: z.number(), height: z.number(), nodes: z.array(LayoutNodeSchema) });
export type GraphLayout = z.infer<typeof GraphLayoutSchema>;

export const StatusReportSchema = z.object({
  service: z.literal('discovery'),
  /** The protocol address (`127.0.0.1:5555`): which discovery server (or replica) this is. */
  address: z.string(),
  /** Where its registry lives: the SQLite file, or the etcd store it shares with other replicas. */
  registry: z.string(),
  /** True when replicas share the registry: round robin and served counts are this replica's own. */
  shared: z.boolean(),
  pid: z.number(),
  startedAt: z.number(),
  now: z.number(),
  counts: z.object({
    pools: z.number(),
    endpoints: z.number(),
    up: z.number(),
    down: z.number(),
    pending: z.number(),
    wrong: z.number(),
    /** Registrations that hold a lease, and those whose lease has lapsed now. */
    leased: z.number().default(0),
    lapsed: z.number().default(0),
  }),
  pools: z.array(StatusPoolSchema),
  /** The unit graph: units are nodes, pools are edges; an edge with no endpoint up is dead. */
  graph: z.object({
    units: z.array(z.string()),
    edges: z.array(z.object({ pair: z.tuple([z.string(), z.string()]), alive: z.boolean() })),
    layout: GraphLayoutSchema,
  }),
});
export type StatusReport = z.infer<typeof StatusReportSchema>;
