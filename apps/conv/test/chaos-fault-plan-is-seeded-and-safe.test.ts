import { describe, expect, it } from 'vitest';
import { CHAOS_PAIRS, REPLICAS } from '../src/chaos/harness';
import { DEFAULT_RECOVERY_MS, type Fault, FAULT_RATES, faultEndMs, maxFaultedAtOnce, planFaults, quietMs } from '../src/chaos/fault-plan';
import { seededRandom } from '../src/chaos/random';

const plan = (seed: number, durationMs = 60_000) => planFaults({ seed, durationMs, pairs: CHAOS_PAIRS, replicas: REPLICAS });

describe('the fault plan', () => {
  it('is a pure function of the seed and the duration', () => {
    expect(plan(42)).toEqual(plan(42));
    expect(plan(42)).not.toEqual(plan(43));
    expect(plan(42, 60_000)).not.toEqual(plan(42, 600_000));
  });

  it('draws every kind of fault, even in a short run', () => {
    for (const seed of [1, 2, 3, 42, 1234]) {
      const kinds = new Set(plan(seed, 30_000).map((fault) => fault.kind));
      expect([...kinds].sort(), `seed ${seed}`).toEqual(['kill-converter', 'kill-discovery', 'stop-converter']);
    }
  });

  it('keeps at least one replica of every pair in service at every moment, and never faults a replica twice at once', () => {
    for (const seed of [1, 2, 3, 42, 99, 1234]) {
      const faults = plan(seed, 600_000);
      for (const pair of CHAOS_PAIRS) expect(maxFaultedAtOnce(faults, pair), `seed ${seed} ${pair}`).toBeLessThanOrEqual(REPLICAS - 1);
      const byReplica = new Map<string, Fault[]>();
      for (const fault of faults) {
        if (fault.kind === 'kill-discovery') continue;
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
