import { describeWithEtcd } from '@conv/testkit';
import { expect, it } from 'vitest';
import { unbrokenChaosRun } from './chaos-run';

// The chaos run on the etcd store, bounded for CI: two discovery replicas on a three-member etcd
// cluster, while the plan also SIGKILLs etcd members (one at a time) and discovery replicas.
// `pnpm chaos --etcd-members 3 --duration 5m` runs it longer (figures in the root README).
const DURATION_MS = 30_000;
const HARD_TIMEOUT_MS = DURATION_MS + 150_000;

describeWithEtcd('under chaos on etcd', {}, () => {
  it(
    'keeps answering every request correctly through etcd member and replica kills, and both replicas end up holding exactly the live replicas',
    async () => {
      const report = await unbrokenChaosRun({ durationMs: DURATION_MS, hardTimeoutMs: HARD_TIMEOUT_MS, etcdMembers: 3 });
      // The faults happened: otherwise the run proves nothing.
      expect(report.requests).toBeGreaterThan(500);
      expect(report.etcdKills).toBeGreaterThan(0);
      expect(report.converterKills).toBeGreaterThan(0);
      expect(report.restarts).toBe(report.converterKills + report.discoveryKills + report.etcdKills);
    },
    HARD_TIMEOUT_MS + 60_000,
  );
});
