import { describe, expect, it } from 'vitest';
import { LIAR_PAIRS } from '../src/chaos/converter-faults';
import { CHAOS_PAIRS, REPLICAS } from '../src/chaos/harness';
import { DEFAULT_RECOVERY_MS, type Fault, FAULT_RATES, faultEndMs, maxFaultedAtOnce, planFaults, quietMs } from '../src/chaos/fault-plan';
import { seededRandom } from '../src/chaos/random';

const plan = (seed: number, durationMs = 60_000) => planFaults({ seed, durationMs, pairs: CHAOS_PAIRS, replicas: REPLICAS, liarPairs: LIAR_PAIRS });

describe('the fault plan', () => {
  it('is a pure function of the seed and the duration', () => {
    expect(plan(42)).toEqual(plan(42));
    expect(plan(42)).not.toEqual(plan(43));
    expect(plan(42, 60_000)).not.toEqual(plan(42, 600_000));
  });

  it('draws every kind of fault, even in a short run', () => {
    for (const seed of [1, 2, 3, 42, 1234]) {
      const kinds = new Set(plan(seed, 30_000).map((fault) => fault.kind));
      expect([...kinds].sort(), `seed ${seed}`).toEqual(['drain-converter', 'kill-converter', 'kill-discovery', 'lie-converter', 'stop-converter']);
    }
  });

  it('plants liars only in pairs whose answers discovery checks exactly, and none without such pairs', () => {
    const liars = plan(42, 600_000).filter((fault) => fault.kind === 'lie-converter');
    expect(liars.length).toBeGreaterThan(5);
    for (const liar of liars) expect(LIAR_PAIRS).toContain(liar.target.pair);
    expect(planFaults({ seed: 42, durationMs: 600_000, pairs: CHAOS_PAIRS, replicas: REPLICAS }).some((f) => f.kind === 'lie-converter')).toBe(false);
  });

  it('on etcd, kills one etcd member and one discovery replica at a time, never both replicas; on SQLite, plans what it always did', () => {
    const onEtcd = (seed: number) => planFaults({ seed, durationMs: 600_000, pairs: CHAOS_PAIRS, replicas: REPLICAS, discoveryReplicas: 2, etcdMembers: 3 });
    for (const seed of [1, 2, 3, 42, 99]) {
      const faults = onEtcd(seed);
      for (const kind of ['kill-etcd-member', 'kill-discovery'] as const) {
        const windows = faults.filter((f) => f.kind === kind).map((f) => [f.atMs, faultEndMs(f)] as const);
        expect(windows.length, `seed ${seed} ${kind}`).toBeGreaterThan(5);
        windows.forEach(([start, end], i) => {
          for (const [otherStart, otherEnd] of windows.slice(i + 1)) expect(start < otherEnd && otherStart < end, `seed ${seed} ${kind} overlap`).toBe(false);
        });
      }
      expect(new Set(faults.flatMap((f) => (f.kind === 'kill-etcd-member' ? [f.member] : [])))).toEqual(new Set([0, 1, 2]));
      expect(new Set(faults.flatMap((f) => (f.kind === 'kill-discovery' ? [f.replica] : [])))).toEqual(new Set([0, 1]));
    }
    expect(plan(42, 600_000).some((f) => f.kind === 'kill-etcd-member')).toBe(false);
    expect(plan(42, 600_000).every((f) => f.kind !== 'kill-discovery' || f.replica === 0)).toBe(true);
  });

  it('keeps at least one replica of every pair in service at every moment, and never faults a replica twice at once', () => {
    for (const seed of [1, 2, 3, 42, 99, 1234]) {
      const faults = plan(seed, 600_000);
      for (const pair of CHAOS_PAIRS) expect(maxFaultedAtOnce(faults, pair), `seed ${seed} ${pair}`).toBeLessThanOrEqual(REPLICAS - 1);
      const byReplica = new Map<string, Fault[]>();
      for (const fault of faults) {
        if (fault.kind === 'kill-discovery' || fault.kind === 'kill-etcd-member') continue;
        const key = `${fault.target.pair}#${fault.target.replica}`;
        byReplica.set(key, [...(byReplica.get(key) ?? []), fault]);
      }
      for (const [key, list] of byReplica) {
        for (let i = 1; i < list.length; i++) {
          const [before, after] = [list[i - 1], list[i]];
          if (!before || !after) continue;
          expect(after.atMs, `${key} seed ${seed}`).toBeGreaterThanOrEqual(faultEndMs(before));
        }
      }
      const discovery = faults.filter((fault) => fault.kind === 'kill-discovery');
      for (let i = 1; i < discovery.length; i++) {
        const [before, after] = [discovery[i - 1], discovery[i]];
        if (before && after) expect(after.atMs).toBeGreaterThanOrEqual(faultEndMs(before));
      }
    }
  });

  it('overlaps faults of different kinds', () => {
    const faults = plan(42, 600_000);
    const overlapping = faults.some((a) =>
      faults.some((b) => a.kind !== b.kind && a.atMs < b.atMs && b.atMs < faultEndMs(a, DEFAULT_RECOVERY_MS)),
    );
    expect(overlapping).toBe(true);
  });

  it('starts after a quiet warm-up and ends everything, recovery included, before the quiet end', () => {
    for (const durationMs of [10_000, 45_000, 60_000, 600_000]) {
      const faults = plan(7, durationMs);
      for (const fault of faults) {
        expect(fault.atMs).toBeGreaterThanOrEqual(quietMs(durationMs));
        expect(faultEndMs(fault)).toBeLessThanOrEqual(durationMs - quietMs(durationMs));
      }
      expect(faults.map((f) => f.atMs)).toEqual([...faults.map((f) => f.atMs)].sort((a, b) => a - b));
    }
  });

  it('stops a replica for longer than the proxy hop timeout (1 s), so the proxy must time it out', () => {
    const stops = plan(42, 600_000).filter((fault) => fault.kind === 'stop-converter');
    expect(stops.length).toBeGreaterThan(10);
    for (const stop of stops) if (stop.kind === 'stop-converter') expect(stop.stoppedMs).toBeGreaterThanOrEqual(FAULT_RATES['stop-converter'].lengthMs[0]);
    expect(FAULT_RATES['stop-converter'].lengthMs[0]).toBeGreaterThan(1000);
  });

  it('draws from a seeded stream that repeats and spreads', () => {
    const a = seededRandom(42);
    const b = seededRandom(42);
    const draws = Array.from({ length: 1000 }, () => a());
    expect(draws).toEqual(Array.from({ length: 1000 }, () => b()));
    expect(draws.every((x) => x >= 0 && x < 1)).toBe(true);
    const mean = draws.reduce((sum, x) => sum + x, 0) / draws.length;
    expect(mean).toBeGreaterThan(0.45);
    expect(mean).toBeLessThan(0.55);
  });
});
