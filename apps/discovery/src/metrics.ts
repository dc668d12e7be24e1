import { type DiscoveryVerb, type FailureCode, type Health, firstWord } from '@conv/protocol';
import type { EndpointRegistry } from '@conv/registry';
import { Gauge, Registry as MetricsRegistry, collectDefaultMetrics } from 'prom-client';
import { type CounterSeries, FastCounter, FastHistogram, type HistogramSeries } from '@conv/server';
import type { AnswerLine, Answered } from './session';

/**
 * Per-pair series are exported while the registry has at most this many pools; past it only the
 * per-health totals are, so a large registry cannot blow up the scrape (label cardinality).
 */
export const MAX_POOLS_WITH_OWN_SERIES = 200;

/** Seconds; discovery answers from memory, so most requests land in the first buckets. */
const LATENCY_BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25];

const HEALTHS: readonly Health[] = ['up', 'down', 'pending', 'wrong'];

const VERBS: readonly DiscoveryVerb[] = ['ADD', 'REMOVE', 'REPORT', 'LOOKUP', 'LOOKUP_MULTI', 'PING', 'LIST', 'HELP', 'SESSION', 'FEATURES', 'WATCH'];
/** Verbs as typed (any case, the PATH alias) -> label; everything else is `unknown`. */
const VERB_LABEL = new Map<string, string>([...VERBS.map((verb) => [verb, verb] as const), ['PATH', 'LOOKUP_MULTI']]);

export type DiscoveryMetricsSources = {
  registry: EndpointRegistry;
  /** Open protocol connections, read at scrape time. */
  connections: () => number;
  probes: () => { tracked: number; inFlight: number; queued: number };
  /** REPORTs (and strangers' REMOVEs) received, acted on (a probe), and folded by the rate limits. */
  reports?: () => { received: number; acted: number; limited: number };
};

export type DiscoveryMetrics = {
  readonly registry: MetricsRegistry;
  /** Counts one answered request line and its time; called once per line, so kept cheap. */
  observe(line: string, answered: Answered, seconds: number): void;
};

type VerbSeries = {
  verb: string;
  ok: CounterSeries;
  failures: Map<FailureCode, CounterSeries>;
  latency: HistogramSeries;
};

/** The discovery server's Prometheus registry: default Node metrics plus ours (see README). */
export function createDiscoveryMetrics(sources: DiscoveryMetricsSources): DiscoveryMetrics {
  const registry = new MetricsRegistry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];

  const requests = new FastCounter('discovery_requests_total', 'Request lines answered, by verb and outcome (ok, or the FAILURE code).', registry);
  const latency = new FastHistogram(
    'discovery_request_duration_seconds',
    'Time to answer one request line, by verb (in-process; excludes network time).',
    LATENCY_BUCKETS,
    registry,
  );
  // Series made once per verb: the per-request path does map lookups and additions, no label strings.
  const series = new Map<string, VerbSeries>();
  for (const verb of [...VERBS, 'unknown']) {
    series.set(verb, { verb, ok: requests.series({ verb, outcome: 'ok' }), failures: new Map(), latency: latency.series({ verb }) });
  }
  const unknownVerb = series.get('unknown') as VerbSeries;

  new Gauge({
    name: 'discovery_pools',
    help: 'Unit pairs with at least one registered endpoint.',
    registers,
    collect() {
      this.set(sources.registry.counts().pools);
    },
  });
  new Gauge({
    name: 'discovery_endpoints',
    help: 'Registered endpoints by health (up, down, pending, wrong).',
    labelNames: ['health'] as const,
    registers,
    collect() {
      const counts = sources.registry.counts();
      this.set({ health: 'up' }, counts.up);
      this.set({ health: 'down' }, counts.down);
      this.set({ health: 'pending' }, counts.pending);
      this.set({ health: 'wrong' }, counts.wrong);
    },
  });
  new Gauge({
    name: 'discovery_pool_endpoints',
    help: `Endpoints of each pool by health; exported only while there are at most ${MAX_POOLS_WITH_OWN_SERIES} pools.`,
    labelNames: ['pair', 'health'] as const,
    registers,
    collect() {
      this.reset();
      if (sources.registry.counts().pools > MAX_POOLS_WITH_OWN_SERIES) return;
      const byPair = new Map<string, Record<Health, number>>();
      for (const registration of sources.registry.registrations()) {
        const pair = `${registration.pair[0]}/${registration.pair[1]}`;
        let tally = byPair.get(pair);
        if (tally === undefined) byPair.set(pair, (tally = { up: 0, down: 0, pending: 0, wrong: 0 }));
        tally[registration.health]++;
      }
      for (const [pair, tally] of byPair) {
        for (const health of HEALTHS) this.set({ pair, health }, tally[health]);
      }
    },
  });
  new Gauge({
    name: 'discovery_open_connections',
    help: 'Open protocol connections.',
    registers,
    collect() {
      this.set(sources.connections());
    },
  });
  new Gauge({
    name: 'discovery_probes',
    help: 'Health probes: endpoints tracked, probes in flight, probes queued.',
    labelNames: ['state'] as const,
    registers,
    collect() {
      const probes = sources.probes();
      this.set({ state: 'tracked' }, probes.tracked);
      this.set({ state: 'in_flight' }, probes.inFlight);
      this.set({ state: 'queued' }, probes.queued);
    },
  });
  new Gauge({
    name: 'discovery_reports',
    help: 'Reports (REPORT, and REMOVE from a stranger) since start: received, acted on with a probe, limited (answered, no probe).',
    labelNames: ['outcome'] as const,
    registers,
    collect() {
      const reports = sources.reports?.();
      if (reports === undefined) return;
      this.set({ outcome: 'received' }, reports.received);
      this.set({ outcome: 'acted' }, reports.acted);
      this.set({ outcome: 'limited' }, reports.limited);
    },
  });

  return {
    registry,
    observe(line, answered, seconds) {
      // A line that did not parse is still counted under the verb it tried to be.
      // REMOVE <unit1> <unit2> is REMOVE to whoever counts requests.
      const label = answered.verb === 'REMOVE_PAIR' ? 'REMOVE' : (answered.verb ?? VERB_LABEL.get(firstWord(line).toUpperCase()) ?? '');
      const verb = series.get(label) ?? unknownVerb;
      verb.latency.observe(seconds);
      const code = answered.outcome;
      if (code === 'ok') {
        verb.ok.inc();
        return;
      }
      let failed = verb.failures.get(code);
      // Made on a code's first appearance (22 codes at most), then reused.
      if (failed === undefined) verb.failures.set(code, (failed = requests.series({ verb: verb.verb, outcome: code })));
      failed.inc();
    },
  };
}

/** `answer` with each line counted and timed, or `answer` itself when metrics are off. */
export function withMetrics(metrics: DiscoveryMetrics | undefined, answer: AnswerLine): AnswerLine {
  if (metrics === undefined) return answer;
  return (line, peer) => {
    const started = performance.now();
    const answered = answer(line, peer);
    if (!(answered instanceof Promise)) {
      metrics.observe(line, answered, (performance.now() - started) / 1000);
      return answered;
    }
    // A write to a shared store (etcd): observed once committed or refused.
    return answered.then((value) => {
      metrics.observe(line, value, (performance.now() - started) / 1000);
      return value;
    });
  };
}
