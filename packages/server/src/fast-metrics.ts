import type { Metric, Registry as MetricsRegistry } from 'prom-client';

/**
 * Counters and histograms for the request path. prom-client's own hash the label set on every
 * `inc`/`observe` (about half a microsecond); these keep one plain object per label set, made
 * once, so counting a request is a few number operations. prom-client still writes them out:
 * each class is a metric its Registry knows how to print (`get()`), read only at scrape time.
 */
export type MetricLabels = Readonly<Record<string, string>>;
type Value = { labels: MetricLabels; value: number; metricName?: string };
/** What prom-client's Registry reads from a metric at scrape time. */
export type MetricSnapshot = { name: string; help: string; type: string; aggregator: string; values: Value[] };

export class CounterSeries {
  value = 0;
  constructor(readonly labels: MetricLabels) {}
  inc(by = 1): void {
    this.value += by;
  }
}

export class FastCounter {
  readonly type = 'counter';
  readonly aggregator = 'sum';
  readonly #series = new Map<string, CounterSeries>();

  constructor(
    readonly name: string,
    readonly help: string,
    registry: MetricsRegistry,
  ) {
    registry.registerMetric(this as unknown as Metric);
  }

  /** The series for these labels, made on first use; keep it and call `inc()` on it. */
  series(labels: MetricLabels = {}): CounterSeries {
    const key = JSON.stringify(labels);
    let series = this.#series.get(key);
    if (series === undefined) this.#series.set(key, (series = new CounterSeries(labels)));
    return series;
  }

  get(): MetricSnapshot {
    const values = [...this.#series.values()].map((series) => ({ labels: series.labels, value: series.value }));
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }
}

export class HistogramSeries {
  /** counts[i]: observations in (bounds[i-1], bounds[i]]; the last slot is above every bound. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  constructor(
    readonly labels: MetricLabels,
    private readonly bounds: readonly number[],
  ) {
    this.counts = new Float64Array(bounds.length + 1);
  }
  observe(value: number): void {
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > (bounds[i] as number)) i++;
    this.counts[i] = (this.counts[i] ?? 0) + 1;
    this.sum += value;
    this.count++;
  }
}

export class FastHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly #series = new Map<string, HistogramSeries>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly bounds: readonly number[],
    registry: MetricsRegistry,
  ) {
    registry.registerMetric(this as unknown as Metric);
  }

  series(labels: MetricLabels = {}): HistogramSeries {
    const key = JSON.stringify(labels);
    let series = this.#series.get(key);
    if (series === undefined) this.#series.set(key, (series = new HistogramSeries(labels, this.bounds)));
    return series;
  }

  get(): MetricSnapshot {
    const values: Value[] = [];
    for (const series of this.#series.values()) {
      let cumulative = 0;
      this.bounds.forEach((bound, i) => {
        cumulative += series.counts[i] ?? 0;
        values.push({ metricName: `${this.name}_bucket`, labels: { ...series.labels, le: String(bound) }, value: cumulative });
      });
      values.push({ metricName: `${this.name}_bucket`, labels: { ...series.labels, le: '+Inf' }, value: series.count });
      values.push({ metricName: `${this.name}_sum`, labels: series.labels, value: series.sum });
      values.push({ metricName: `${this.name}_count`, labels: series.labels, value: series.count });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }
}
