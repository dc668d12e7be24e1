import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MemorySharedRegistryStore, Registry, type RegistryChange, SharedRegistry, unitPair, type HealthPolicy } from '../src/index';
import { ep, manualClock, useTempDir } from './helpers';

const open: { close(): void }[] = [];
afterEach(() => {
  for (const registry of open.splice(0)) registry.close();
});

const FT_IN = unitPair('ft', 'in');
const A = ep('127.0.0.1', 4001);
const B = ep('127.0.0.1', 4002);
const policy: HealthPolicy = { failuresToDown: 3, successesToUp: 2, downGraceMs: 60_000, pendingGraceMs: 30_000 };
const tempDir = useTempDir();

function setup(path = ':memory:', clock = manualClock()) {
  const registry = Registry.open({ path, policy, now: clock.now });
  open.push(registry);
  const changes: RegistryChange[] = [];
  registry.watch((change) => changes.push(change));
  return { registry, clock, changes };
}

describe('a lease', () => {
  it('lapses one lease after the last ADD: down at once, one health change, never handed out', () => {
    const { registry, clock, changes } = setup();
    registry.add(FT_IN, A, { leaseMs: 5_000 });
    registry.add(FT_IN, B);
    registry.recordProbe(A, true);
    registry.recordProbe(B, true);
    expect(registry.find(A)).toMatchObject({ health: 'up', leaseMs: 5_000, leaseExpiresAt: clock.now() + 5_000, lapsed: false, lapses: 0 });
    expect(registry.find(B)).toMatchObject({ health: 'up', lapsed: false });
    expect(registry.find(B)?.leaseMs).toBeUndefined();
    clock.advance(4_999);
    expect(registry.expireLeases()).toEqual({ lapsed: [], nextAt: clock.now() + 1 });
    changes.length = 0;
    clock.advance(1);
    expect(registry.expireLeases().lapsed).toEqual([{ endpoint: A, pair: FT_IN, from: 'up', to: 'down' }]);
    expect(changes).toEqual([expect.objectContaining({ kind: 'health', endpoint: A, health: 'down' })]);
    expect(registry.find(A)).toMatchObject({ health: 'down', lapsed: true, lapses: 1 });
    expect(registry.counts()).toMatchObject({ up: 1, down: 1, leased: 1, lapsed: 1 });
    // Only B is handed out; a lease without a probe's say-so is never B's business.
    expect([registry.next(FT_IN), registry.next(FT_IN)]).toEqual([B, B]);
    // Lapsed once, not again on every tick.
    clock.advance(10_000);
    expect(registry.expireLeases().lapsed).toEqual([]);
  });

  it('is renewed by every ADD of the same registration, and not by probes', () => {
    const { registry, clock } = setup();
    registry.add(FT_IN, A, { leaseMs: 2_000 });
    registry.recordProbe(A, true);
    for (let i = 0; i < 5; i++) {
      clock.advance(1_500);
      expect(registry.add(FT_IN, A, { leaseMs: 2_000 })).toEqual({ ok: true, created: false });
      expect(registry.expireLeases().lapsed).toEqual([]);
    }
    registry.recordProbe(A, true);
    clock.advance(2_000);
    expect(registry.expireLeases().lapsed).toHaveLength(1);
  });

  it('held down after a lapse whatever probes say; an ADD makes it pending, and a probe up again', () => {
    const { registry, clock } = setup();
    registry.add(FT_IN, A, { leaseMs: 1_000 });
    registry.recordProbe(A, true);
    clock.advance(1_000);
    registry.expireLeases();
    expect(registry.recordProbe(A, true)).toBeUndefined();
    expect(registry.recordProbe(A, true)).toBeUndefined();
    expect(registry.find(A)?.health).toBe('down');
    const renewed = registry.add(FT_IN, A, { leaseMs: 1_000 });
    expect(renewed).toEqual({ ok: true, created: false, renewed: { endpoint: A, pair: FT_IN, from: 'down', to: 'pending' } });
    expect(registry.find(A)).toMatchObject({ health: 'pending', lapsed: false, lapses: 1 });
    expect(registry.recordProbe(A, true)).toEqual({ endpoint: A, pair: FT_IN, from: 'pending', to: 'up' });
  });

  it('is swept after the down grace from its lapse, unless an ADD comes', () => {
    const { registry, clock } = setup();
    registry.add(FT_IN, A, { leaseMs: 1_000 });
    clock.advance(1_000);
    registry.expireLeases();
    clock.advance(policy.downGraceMs);
    expect(registry.sweep()).toEqual([]);
    clock.advance(1);
    expect(registry.sweep()).toEqual([{ endpoint: A, pair: FT_IN, from: 'down', to: 'removed' }]);
    expect(registry.counts()).toMatchObject({ endpoints: 0, leased: 0, lapsed: 0 });
  });

  it('the latest ADD decides: an ADD without lease= drops it (probed only), one with lease= takes it', () => {
    const { registry, clock } = setup();
    registry.add(FT_IN, A);
    registry.recordProbe(A, true);
    registry.add(FT_IN, A, { leaseMs: 1_000 });
    expect(registry.counts()).toMatchObject({ leased: 1 });
    registry.add(FT_IN, A);
    expect(registry.counts()).toMatchObject({ leased: 0 });
    clock.advance(5_000);
    expect(registry.expireLeases().lapsed).toEqual([]);
    expect(registry.find(A)?.health).toBe('up');
  });

  it('a lease asked for that no wire could carry is refused', () => {
    const { registry } = setup();
    expect(() => registry.add(FT_IN, A, { leaseMs: 5 })).toThrow(expect.objectContaining({ code: 'INVALID_OPTIONS' }));
  });

  it('survives a restart in the registry file and starts afresh: a full lease from the reopening', () => {
    const path = join(tempDir(), 'registry.sqlite');
    const clock = manualClock();
    const first = setup(path, clock).registry;
    first.add(FT_IN, A, { leaseMs: 3_000 });
    first.add(FT_IN, B);
    first.close();
    clock.advance(60_000);
    const { registry } = setup(path, clock);
    expect(registry.find(A)).toMatchObject({ health: 'pending', leaseMs: 3_000, leaseExpiresAt: clock.now() + 3_000, lapsed: false });
    expect(registry.find(B)?.leaseMs).toBeUndefined();
    clock.advance(2_999);
    expect(registry.expireLeases().lapsed).toEqual([]);
    clock.advance(1);
    expect(registry.expireLeases().lapsed).toEqual([{ endpoint: A, pair: FT_IN, from: 'pending', to: 'down' }]);
  });

  it('a shared registry records the lease its store ends, and times none itself', async () => {
    const clock = manualClock();
    const store = new MemorySharedRegistryStore();
    const registry = await SharedRegistry.open({ store, policy, now: clock.now });
    open.push(registry);
    const peer = await SharedRegistry.open({ store: store.peer(), policy, now: clock.now });
    open.push(peer);
    await registry.add(FT_IN, A, { leaseMs: 2_000 });
    expect(registry.find(A)).toMatchObject({ leaseMs: 2_000, lapsed: false });
    expect(registry.find(A)?.leaseExpiresAt).toBeUndefined();
    await new Promise((resolve) => setImmediate(resolve));
    expect(peer.find(A)?.leaseMs).toBe(2_000);
    // Dropped by a later ADD without one: every replica hears it.
    await registry.add(FT_IN, A);
    await new Promise((resolve) => setImmediate(resolve));
    expect(peer.find(A)?.leaseMs).toBeUndefined();
    clock.advance(10_000);
    expect(registry.expireLeases().lapsed).toEqual([]);
  });
});
