import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { APP, describeWithEtcd } from '@conv/testkit';
import { expect, it } from 'vitest';
import { runChaos } from '../src/chaos/harness';
import { formatReport, passed } from '../src/chaos/report';

// The chaos run on the etcd store, bounded for CI: two discovery replicas on a three-member etcd
// cluster, while the plan also SIGKILLs etcd members (one at a time) and discovery replicas.
// `pnpm chaos --etcd-members 3 --duration 5m` runs it longer (figures in the root README).
const DURATION_MS = 30_000;
const HARD_TIMEOUT_MS = DURATION_MS + 150_000;

describeWithEtcd('under chaos on etcd', {}, () => {
  it(
    'keeps answering every request correctly through etcd member and replica kills, and both replicas end up holding exactly the live replicas',
    async () => {
      const workDir = mkdtempSync(join(tmpdir(), 'conv-chaos-etcd-test-'));
      const report = await runChaos({
        durationMs: DURATION_MS,
        seed: 42,
        clients: 8,
        apps: APP,
        workDir,
        etcdMembers: 3,
        say: (line) => console.log(line),
        hardTimeoutMs: HARD_TIMEOUT_MS,
      });
      console.log(formatReport(report));

      expect(report.problems).toEqual([]);
      expect(report.failures).toBe(0);
      expect(report.wrongAnswers).toBe(0);
      expect(report.registry).toEqual({ live: 12, missing: [], notUp: [], unexpected: [] });
      // The faults happened: otherwise the run proves nothing.
      expect(report.requests).toBeGreaterThan(500);
      expect(report.etcdKills).toBeGreaterThan(0);
      expect(report.converterKills).toBeGreaterThan(0);
      expect(report.restarts).toBe(report.converterKills + report.discoveryKills + report.etcdKills);
      if (passed(report)) rmSync(workDir, { recursive: true, force: true });
    },
    HARD_TIMEOUT_MS + 60_000,
  );
});
