import { Registry } from '@conv/registry';
import { silentLogger } from '@conv/server';
import { waitFor } from '@conv/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { HealthMonitor, type HealthMonitorOptions, LEASED_SHARE } from '../src/health-monitor';
import type { ProbeResult } from '../src/probe';

// The scheduler with its one edge (the probe's socket) held in the test's hand: each probe
// waits until the test settles it, so what runs when is seen exactly.
type Held = { key: string; settle(result?: ProbeResult): void };

function setup(options: Partial<HealthMonitorOptions>) {
  const registry = Registry.open({ path: ':memory:' });
  /** Every probe started, in order; `held` are those not settled yet. */
  const started: Held[] = [];
  const held: Held[] = [];
  const monitor = new HealthMonitor({
    registry,
    probe: (endpoint) =>
      new Promise<ProbeResult>((resolve) => {
        const probe = { key: `${endpoint.host}:${endpoint.port}`, settle: (result: ProbeResult = { ok: true }) => resolve(result) };
        started.push(probe);
        held.push(probe);
      }),
    intervalMs: 0,
    concurrency: 4,
    sweepEveryMs: 60_000,
    log: silentLogger,
    ...options,
  });
  const endpoint = (port: number) => ({ host: '127.0.0.1', port });
  const track = (...ports: number[]) => {
    for (const port of ports) monitor.track(endpoint(port), ['ft', 'in']);
  };
  const settleAll = () => {
    for (const probe of held.splice(0)) probe.settle();
  };
  opened.push(async () => {
    settleAll();
    await monitor.stop();
    registry.close();
  });
  return { monitor, started, endpoint, track, settleAll, registry };
}

const opened: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of opened.splice(0)) await close();
});

const range = (from: number, count: number) => Array.from({ length: count }, (_, i) => from + i);

describe('probe scheduling', () => {
  it('never has more probes in flight than the concurrency cap', () => {
    const { monitor, started, endpoint, track } = setup({ concurrency: 3 });
    track(...range(1, 10));
    for (const port of range(1, 10)) monitor.probeNow(endpoint(port));
    expect(started.map((held) => held.key)).toEqual(['127.0.0.1:1', '127.0.0.1:2', '127.0.0.1:3']);
    expect(monitor.stats).toMatchObject({ inFlight: 3, queued: 7 });
    started[0]?.settle();
    return waitFor(() => started.length === 4 && monitor.stats.inFlight === 3, { what: 'the fourth probe once one ended' });
  });

  it('queues a probe once however often it is asked for, and runs it once more if asked while in flight', async () => {
    const { monitor, started, endpoint, track } = setup({ concurrency: 1 });
    track(1, 2);
    monitor.probeNow(endpoint(1));
    for (let i = 0; i < 100; i++) monitor.probeNow(endpoint(2));
    expect(monitor.stats.queued).toBe(1);
    for (let i = 0; i < 100; i++) monitor.probeNow(endpoint(1));
    started[0]?.settle();
    await waitFor(() => started.length === 2, { what: 'the queued probe' });
    started[1]?.settle();
    await waitFor(() => started.length === 3, { what: 'the again-probe' });
    started[2]?.settle();
    expect(started.map((held) => held.key)).toEqual(['127.0.0.1:1', '127.0.0.1:2', '127.0.0.1:1']);
    expect(monitor.stats.queued).toBe(0);
  });

  it('starts an urgent probe at once, whatever the routine budget and backlog', () => {
    // One routine probe a second, 200 endpoints every 100 ms: routine probes are far behind.
    const { monitor, started, endpoint, track } = setup({ intervalMs: 100, maxProbeRate: 1, concurrency: 64 });
    track(...range(1, 200));
    monitor.start();
    monitor.probeNow(endpoint(150));
    expect(started.map((held) => held.key)).toContain('127.0.0.1:150');
  });

  it('gives the routine budget to endpoints that never heartbeat first; heartbeating ones get a small share, never none', async () => {
    const { monitor, started, endpoint, track, settleAll, registry } = setup({ intervalMs: 100, maxProbeRate: 20, concurrency: 64 });
    // Twenty course servers (no lease) want 200 probes a second, ten times the budget; four heartbeat.
    const course = range(1, 20);
    const heartbeating = range(101, 4);
    for (const port of course) registry.add(['ft', 'in'], endpoint(port));
    for (const port of heartbeating) registry.add(['ft', 'in'], endpoint(port), { leaseMs: 60_000 });
    track(...course, ...heartbeating);
    monitor.start();
    await waitFor(
      () => {
        settleAll();
        return started.length >= 60;
      },
      { what: 'sixty routine probes', timeoutMs: 20_000 },
    );
    const first = started.slice(0, 60).map((held) => Number(held.key.split(':')[1]));
    const leased = first.filter((port) => port > 100).length;
    expect(leased).toBeGreaterThanOrEqual(1);
    expect(leased).toBeLessThanOrEqual(60 / LEASED_SHARE + 1);
  });

  it('keeps routine probes within the budget', async () => {
    const { monitor, started, track, settleAll } = setup({ intervalMs: 100, maxProbeRate: 20, concurrency: 64 });
    track(...range(1, 100));
    const t0 = performance.now();
    monitor.start();
    await waitFor(
      () => {
        settleAll();
        return started.length >= 15;
      },
      { what: 'fifteen routine probes', timeoutMs: 20_000 },
    );
    // 100 endpoints every 100 ms would be 1000 a second; the budget allows 20 (and a tick's burst).
    expect(started.length - 2).toBeLessThanOrEqual((20 * (performance.now() - t0)) / 1000);
  });

  it('takes admission probes in turn across sources, so one source flooding ADDs delays no one else', async () => {
    // Concurrency 2: admissions get one slot at most, the other stays for everything else.
    const { monitor, started, endpoint, track } = setup({ concurrency: 2 });
    track(...range(1, 101), 500);
    for (const port of range(1, 100)) monitor.probeNow(endpoint(port), { confirm: true, source: '127.0.0.2' });
    monitor.probeNow(endpoint(101), { confirm: true, source: '127.0.0.3' });
    expect(started.map((held) => held.key)).toEqual(['127.0.0.1:1']);
    // A routine-or-urgent probe still finds its slot while the flood holds the admission one.
    monitor.probeNow(endpoint(500));
    expect(started.map((held) => held.key)).toEqual(['127.0.0.1:1', '127.0.0.1:500']);
    // Sources take turns: 127.0.0.3's one ADD waits for one more of the flood at most, not 99.
    started[0]?.settle();
    await waitFor(() => started.length === 3, { what: 'the next admission' });
    started[2]?.settle();
    await waitFor(() => started.length === 4, { what: 'the admission after it' });
    expect(started.slice(2).map((held) => held.key)).toContain('127.0.0.1:101');
  });
});
