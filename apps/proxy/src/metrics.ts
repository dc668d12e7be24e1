import { type ConversionRequest, type FailureCode } from '@conv/protocol';
import { Counter, Gauge, Registry as MetricsRegistry, collectDefaultMetrics } from 'prom-client';
import { type CounterSeries, FastCounter, FastHistogram } from '@conv/server';
import type { RouterStats } from './router';
import type { Answer } from './session';

/** Seconds; a request is one to several network hops, each bounded by --hop-timeout. */
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export type ProxyMetricsSources = {
  stats: () => RouterStats;
  connections: () => number;
  cachedPaths: () => number;
  discoveryUp: () => boolean;
  /** Ejections since start, and endpoints ejected now. */
  ejections: () => { total: number; ejected: number };
};

/** The few figures discovery's status page shows per proxy (the rest of /status.json is added by the app). */
export type ProxyFigureCounts = { requests: number; ok: number; failovers: number; p99Ms: number | null; discoveryUp: boolean; ejections: number };

export type ProxyMetrics = {
  readonly registry: MetricsRegistry;
  /** The same answer function, each request counted by outcome and timed. */
  observe(answer: Answer): Answer;
  figures(): ProxyFigureCounts;
};

/** The proxy's Prometheus registry: default Node metrics plus ours (see README). */
export function createProxyMetrics(sources: ProxyMetricsSources): ProxyMetrics {
  const registry = new MetricsRegistry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const requests = new FastCounter('proxy_requests_total', 'Conversion requests answered, by outcome (ok, or the FAILURE code sent to the client).', registry);
  const latency = new FastHistogram('proxy_request_duration_seconds', 'Time from a parsed request to its answer, every hop and failover included.', LATENCY_BUCKETS, registry).series();
  // The router keeps its own tallies; these counters mirror them at scrape time.
  const mirrored: [keyof RouterStats, string, string][] = [
    ['failovers', 'proxy_failovers_total', 'Hops moved to another replica because a converter was dead.'],
    ['retries', 'proxy_retries_total', 'Hops retried because a converter was busy.'],
    ['reports', 'proxy_dead_endpoint_reports_total', 'Dead converters reported to discovery (REMOVE).'],
    ['reroutes', 'proxy_reroutes_total', 'Requests that asked discovery for a new path after a cached one ran dry.'],
  ];
  for (const [key, name, help] of mirrored) {
    new Counter({
      name,
      help,
      registers,
      collect() {
        this.reset();
        this.inc(sources.stats()[key]);
      },
    });
  }
  new Gauge({
    name: 'proxy_open_connections',
    help: 'Open client connections.',
    registers,
    collect() {
      this.set(sources.connections());
    },
  });
  new Gauge({
    name: 'proxy_cached_paths',
    help: 'Paths (from -> to) remembered from discovery.',
    registers,
    collect() {
      this.set(sources.cachedPaths());
    },
  });
  new Gauge({
    name: 'proxy_discovery_up',
    help: '1 while the connection to discovery is up, 0 while it is unreachable.',
    registers,
    collect() {
      this.set(sources.discoveryUp() ? 1 : 0);
    },
  });
  new Counter({
    name: 'proxy_ejections_total',
    help: 'Converters ejected (outlier detection) because they timed out or failed; each ejection once.',
    registers,
    collect() {
      this.reset();
      this.inc(sources.ejections().total);
    },
  });
  new Gauge({
    name: 'proxy_ejected_endpoints',
    help: 'Converters ejected now (skipped while another replica of the pair is usable).',
    registers,
    collect() {
      this.set(sources.ejections().ejected);
    },
  });
  // Label children made once; the request path only looks them up.
  const ok = requests.series({ outcome: 'ok' });
  const failures = new Map<FailureCode, CounterSeries>();

  return {
    registry,
    figures() {
      return {
        requests: sources.stats().requests,
        ok: ok.value,
        failovers: sources.stats().failovers,
        p99Ms: quantileMs(latency.counts, latency.count, 0.99),
        discoveryUp: sources.discoveryUp(),
        ejections: sources.ejections().total,
      };
    },
    observe(answer) {
      return async (request: ConversionRequest, options?: { trace?: boolean }) => {
        const started = performance.now();
        const answered = await answer(request, options);
        latency.observe((performance.now() - started) / 1000);
        const code = answered.outcome;
        if (code === 'ok') {
          ok.inc();
          return answered;
        }
        let failed = failures.get(code);
        if (failed === undefined) failures.set(code, (failed = requests.series({ outcome: code })));
        failed.inc();
        return answered;
      };
    },
  };
}

/**
 * A quantile from the latency histogram, in ms: the upper bound of the bucket it falls in (the
 * histogram keeps no finer detail); above the last bound, that bound. Null before any request.
 */
function quantileMs(counts: Float64Array, total: number, q: number): number | null {
  if (total === 0) return null;
  const wanted = Math.ceil(total * q);
  let seen = 0;
  for (let i = 0; i < counts.length; i++) {
    seen += counts[i] ?? 0;
    if (seen >= wanted) return (LATENCY_BUCKETS[Math.min(i, LATENCY_BUCKETS.length - 1)] ?? 0) * 1000;
  }
  return (LATENCY_BUCKETS[LATENCY_BUCKETS.length - 1] ?? 0) * 1000;
}
