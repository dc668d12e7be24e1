import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { APP } from '@conv/testkit';
import { expect } from 'vitest';
import { type ChaosOptions, runChaos } from '../src/chaos/harness';
import { type ChaosReport, formatReport, passed } from '../src/chaos/report';

/**
 * A chaos run for CI (seed 42, 8 clients, the built apps), its summary printed, and what every
 * run must show: no failed request, no wrong answer, the registry holding exactly the 12 live
 * replicas. The caller checks that the faults of its kind happened. Logs are kept on failure.
 */
export async function unbrokenChaosRun(options: Pick<ChaosOptions, 'durationMs' | 'hardTimeoutMs' | 'etcdMembers'>): Promise<ChaosReport> {
  const workDir = mkdtempSync(join(tmpdir(), 'conv-chaos-test-'));
  const report = await runChaos({ ...options, seed: 42, clients: 8, apps: APP, workDir, say: (line) => console.log(line) });
  console.log(formatReport(report));
  expect(report.problems).toEqual([]);
  expect(report.failures).toBe(0);
  expect(report.wrongAnswers).toBe(0);
  expect(report.registry).toEqual({ live: 12, missing: [], notUp: [], unexpected: [] });
  if (passed(report)) rmSync(workDir, { recursive: true, force: true });
  return report;
}
