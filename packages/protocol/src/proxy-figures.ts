import { z } from 'zod';

// `GET /status.json` on a proxy's operator port: what discovery's status page shows in the
// proxy's panel, and where an operator sees which converters the proxy has ejected. The proxy
// writes it; discovery reads it at its edge, liberally (extra fields are ignored).

/** A converter the proxy ejected (or did, with no success since): Envoy-style outlier detection. */
export const OutlierRecordSchema = z.object({
  endpoint: z.string(),
  /** Ejections in a row with no answer between them, the current one included. */
  consecutive: z.number(),
  /** How long the latest ejection lasts: the base time x 2^(consecutive-1), capped. */
  ejectionMs: z.number(),
  ejected: z.boolean(),
  remainingMs: z.number(),
});
export type OutlierRecord = z.infer<typeof OutlierRecordSchema>;

export const ProxyFiguresSchema = z.object({
  service: z.literal('proxy'),
  address: z.string(),
  /** Conversion requests answered since start, and how many of them with a number. */
  requests: z.number(),
  ok: z.number(),
  failovers: z.number(),
  /** 99th percentile of request time, from the latency histogram (its bucket bound); null before any request. */
  p99Ms: z.number().nullable(),
  discoveryUp: z.boolean(),
  ejections: z.number(),
  outliers: z.array(OutlierRecordSchema),
});
export type ProxyFigures = z.infer<typeof ProxyFiguresSchema>;

/** A watcher of a discovery server as `/status.json` lists it, with its figures when it is a proxy that could be read. */
export const WatcherStatusSchema = z.object({
  name: z.string().optional(),
  peer: z.string(),
  httpPort: z.number().optional(),
  since: z.number(),
  /** The proxy's figures read from its operator port; `unreachable` with why when that failed; absent without `http=`. */
  figures: z.union([ProxyFiguresSchema, z.object({ unreachable: z.string() })]).optional(),
});
export type WatcherStatus = z.infer<typeof WatcherStatusSchema>;
