import { afterEach, describe, expect, it } from 'vitest';
import { Registry, unitPair, type Health, type HealthPolicy } from '../src/index';
import { ep, manualClock } from './helpers';

const open: Registry[] = [];
afterEach(() => {
  for (const registry of open.splice(0)) registry.close();
});

const FT_IN = unitPair('ft', 'in');
const A = ep('127.0.0.1', 4001);
const policy: HealthPolicy = { failuresToDown: 3, successesToUp: 2, downGraceMs: 60_000, pendingGraceMs: 30_000 };

function setup(health?: 'pending' | 'up') {
  const clock = manualClock();
  const registry = Registry.open({ path: ':memory:', policy, now: clock.now });
  open.push(registry);
  registry.add(FT_IN, A, health === undefined ? undefined : { health });
  const health_ = (): Health | undefined => registry.find(A)?.health;
  return { registry, clock, health: health_ };
}

describe('pending', () => {
  it('becomes up on the first successful probe, and only then is served', () => {
    const { registry, health } = setup();
    expect(registry.next(FT_IN)).toBeUndefined();
    expect(registry.recordProbe(A, false)).toBeUndefined();
    expect(health()).toBe('pending');
    expect(registry.recordProbe(A, true)).toEqual({ endpoint: A, pair: FT_IN, from: 'pending', to: 'up' });
    expect(registry.next(FT_IN)).toEqual(A);
  });

  it('goes down at once on a passive report', () => {
    const { registry } = setup();
    expect(registry.markDown(A)).toMatchObject({ from: 'pending', to: 'down' });
  });

  it('is swept after pendingGraceMs without being seen, not a moment before', () => {
    const { registry, clock } = setup();
    clock.advance(30_000);
    expect(registry.sweep()).toEqual([]);
    clock.advance(1);
    expect(registry.sweep()).toEqual([{ endpoint: A, pair: FT_IN, from: 'pending', to: 'removed' }]);
    expect(registry.find(A)).toBeUndefined();
  });
});

describe('up', () => {
  it('goes down after failuresToDown consecutive failures; a success in between resets the count', () => {
    const { registry, health } = setup('up');
    registry.recordProbe(A, false);
    registry.recordProbe(A, false);
    registry.recordProbe(A, true);
    registry.recordProbe(A, false);
    registry.recordProbe(A, false);
    expect(health()).toBe('up');
    expect(registry.recordProbe(A, false)).toEqual({ endpoint: A, pair: FT_IN, from: 'up', to: 'down' });
    expect(registry.find(A)).toMatchObject({ consecutiveFailures: 3, consecutiveSuccesses: 0 });
    expect(registry.next(FT_IN)).toBeUndefined();
  });

  it('goes down at once on markDown, and is never swept while up', () => {
    const { registry, clock } = setup('up');
    clock.advance(10 * 60_000);
    expect(registry.sweep()).toEqual([]);
    expect(registry.markDown(A)).toMatchObject({ from: 'up', to: 'down' });
    expect(registry.markDown(A)).toBeUndefined();
  });
});

describe('down', () => {
  it('comes back up only after successesToUp consecutive successes', () => {
    const { registry, health } = setup('up');
    registry.markDown(A);
    expect(registry.recordProbe(A, true)).toBeUndefined();
    registry.recordProbe(A, false);
    expect(registry.recordProbe(A, true)).toBeUndefined();
    expect(registry.recordProbe(A, true)).toMatchObject({ from: 'down', to: 'up' });
    expect(health()).toBe('up');
  });

  it('does not come up by announcing itself again: an ADD is a claim, a probe is evidence', () => {
    const { registry, health } = setup('up');
    registry.markDown(A);
    expect(registry.add(FT_IN, A, { health: 'up' })).toEqual({ ok: true, created: false });
    expect(health()).toBe('down');
    expect(registry.next(FT_IN)).toBeUndefined();
  });

  it('is swept after downGraceMs unseen; a re-announcement restarts that grace', () => {
    const { registry, clock } = setup('up');
    registry.markDown(A);
    clock.advance(50_000);
    registry.add(FT_IN, A);
    clock.advance(50_000);
    expect(registry.sweep()).toEqual([]);
    clock.advance(10_001);
    expect(registry.sweep()).toEqual([{ endpoint: A, pair: FT_IN, from: 'down', to: 'removed' }]);
    expect(registry.counts()).toEqual({ pools: 0, endpoints: 0, up: 0, down: 0, pending: 0, wrong: 0, leased: 0, lapsed: 0 });
  });

  it('records when each probe happened and when health changed', () => {
    const { registry, clock } = setup('up');
    clock.advance(5);
    registry.recordProbe(A, false);
    clock.advance(5);
    registry.markDown(A);
    expect(registry.find(A)).toMatchObject({ lastCheck: 1_000_005, healthSince: 1_000_010 });
  });
});

describe('pairs() and version', () => {
  it('lists sorted pairs with an up endpoint; version bumps exactly when that list changes', () => {
    const clock = manualClock();
    const registry = Registry.open({ path: ':memory:', policy, now: clock.now });
    open.push(registry);
    const KG_G = unitPair('kg', 'g');
    const v0 = registry.version;
    registry.add(FT_IN, A);
    expect(registry.version).toBe(v0);
    expect(registry.pairs()).toEqual([]);
    registry.recordProbe(A, true);
    expect(registry.version).toBe(v0 + 1);
    registry.add(FT_IN, ep('127.0.0.1', 4002), { health: 'up' });
    expect(registry.version).toBe(v0 + 1);
    registry.add(KG_G, ep('127.0.0.1', 4003), { health: 'up' });
    expect(registry.pairs()).toEqual([FT_IN, KG_G]);
    expect(registry.version).toBe(v0 + 2);
    registry.markDown(A);
    expect(registry.version).toBe(v0 + 2);
    registry.remove(ep('127.0.0.1', 4002));
    expect(registry.version).toBe(v0 + 3);
    expect(registry.pairs()).toEqual([KG_G]);
    registry.remove(A);
    expect(registry.version).toBe(v0 + 3);
  });
});
