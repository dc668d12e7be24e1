import type { FailureCode } from '@conv/protocol';
import { Gauge, Registry as MetricsRegistry, collectDefaultMetrics } from 'prom-client';
import { type CounterSeries, FastCounter, FastHistogram } from '@conv/server';
import type { PairConversion } from './pair';

/** Seconds; a conversion is arithmetic on one number, so the buckets are small. */
const LATENCY_BUCKETS = [0.000005, 0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.001, 0.01];

export type ConverterMetrics = {
  readonly registry: MetricsRegistry;
  /** The same conversion, each call counted by outcome and timed. */
  observe(conversion: PairConversion): PairConversion;
};

/** The converter's Prometheus registry: default Node metrics plus ours (see README). */
export function createConverterMetrics(sources: { connections: () => number; paused: () => number }): ConverterMetrics {
  const registry = new MetricsRegistry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const requests = new FastCounter('converter_requests_total', 'Conversion requests answered, by outcome (ok, or the FAILURE code); lines refused before conversion are not counted.', registry);
  const latency = new FastHistogram('converter_request_duration_seconds', 'Time to compute one conversion (in-process; excludes network time).', LATENCY_BUCKETS, registry).series();
  new Gauge({
    name: 'converter_open_connections',
    help: 'Open client connections.',
    registers,
    collect() {
      this.set(sources.connections());
    },
  });
  new Gauge({
    name: 'converter_paused_connections',
    help: 'Connections not being read because their unread replies pile up.',
    registers,
    collect() {
      this.set(sources.paused());
    },
  });
  // Label children made once; the request path only looks them up.
  const ok = requests.series({ outcome: 'ok' });
  const failures = new Map<FailureCode, CounterSeries>();

  return {
    registry,
    observe(conversion) {
      return {
        ...conversion,
        convert(from, to, amount) {
          const started = performance.now();
          const result = conversion.convert(from, to, amount);
          latency.observe((performance.now() - started) / 1000);
          if (result.ok) {
            ok.inc();
          } else {
            let failed = failures.get(result.failure.code);
            if (failed === undefined) failures.set(result.failure.code, (failed = requests.series({ outcome: result.failure.code })));
            failed.inc();
          }
          return result;
        },
      };
    },
  };
}
