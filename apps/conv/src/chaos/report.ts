/** What a chaos run measured and whether every guarantee held. */
export type ChaosReport = {
  readonly seed: number;
  readonly durationMs: number;
  readonly clients: number;
  readonly requests: number;
  readonly failures: number;
  readonly wrongAnswers: number;
  readonly converterKills: number;
  readonly discoveryKills: number;
  readonly etcdKills: number;
  readonly restarts: number;
  /** Restarts that needed more than one attempt (the port was briefly taken). */
  readonly restartRetries: number;
  readonly stops: number;
  /** Replicas redeployed with a wrong --factor (and back); their answers must never reach a client. */
  readonly lies: number;
  /** Live replicas removed by the operator (REMOVE from their own host). */
  readonly drains: number;
  /** Planned faults not carried out because their pair had no other replica in service at that moment. */
  readonly skippedFaults: number;
  readonly proxyFailovers: number;
  readonly proxyRetries: number;
  readonly p50LatencyMs: number;
  readonly p99LatencyMs: number;
  readonly maxLatencyMs: number;
  readonly registry: { readonly live: number; readonly missing: readonly string[]; readonly notUp: readonly string[]; readonly unexpected: readonly string[] };
  /** The first failed requests and wrong answers, verbatim. */
  readonly samples: readonly string[];
  /** Every assertion that did not hold, one sentence each; empty when the run passed. */
  readonly problems: readonly string[];
  readonly logDir: string;
};

export function passed(report: ChaosReport): boolean {
  return report.problems.length === 0;
}

/** The `p`-th percentile (0..100) by nearest rank; 0 for no samples. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] ?? 0;
}

const ms = (value: number) => `${value.toFixed(1)} ms`;

export function formatReport(report: ChaosReport): string {
  const seconds = report.durationMs / 1000;
  const { registry } = report;
  const registryLine =
    registry.missing.length + registry.notUp.length + registry.unexpected.length === 0
      ? `exactly the ${registry.live} live replicas, all up`
      : `missing [${registry.missing.join(', ')}], not up [${registry.notUp.join(', ')}], unexpected [${registry.unexpected.join(', ')}]`;
  const lines = [
    `chaos summary: seed ${report.seed}, ${seconds} s of load, ${report.clients} clients`,
    `  requests        ${report.requests} (${(report.requests / seconds).toFixed(1)}/s)`,
    `  failed          ${report.failures}`,
    `  wrong answers   ${report.wrongAnswers}`,
    `  faults          ${report.converterKills} converter kills, ${report.discoveryKills} discovery kills, ${report.etcdKills > 0 ? `${report.etcdKills} etcd member kills, ` : ''}${report.stops} stops (SIGSTOP), ${report.lies} liars, ${report.drains} drains, ${report.skippedFaults} skipped`,
    `  restarts        ${report.restarts} (${report.restartRetries} needed a second attempt)`,
    `  proxy           ${report.proxyFailovers} failovers, ${report.proxyRetries} retries`,
    `  latency         p50 ${ms(report.p50LatencyMs)}, p99 ${ms(report.p99LatencyMs)}, max ${ms(report.maxLatencyMs)}`,
    `  registry        ${registryLine}`,
  ];
  if (report.samples.length > 0) lines.push('  first failures:', ...report.samples.map((sample) => `    ${sample}`));
  lines.push(`  logs            ${report.logDir}`);
  lines.push(passed(report) ? '  verdict         PASS' : `  verdict         FAIL: ${report.problems.join('; ')}`);
  return lines.join('\n');
}
