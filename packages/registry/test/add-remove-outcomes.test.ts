import { afterEach, describe, expect, it } from 'vitest';
import { MemoryRegistryStore, Registry, RegistryError, unitPair, type RegistryStore } from '../src/index';
import { ep, manualClock } from './helpers';

const open: Registry[] = [];
afterEach(() => {
  for (const registry of open.splice(0)) registry.close();
});
function track(registry: Registry): Registry {
  open.push(registry);
  return registry;
}

const FT_IN = unitPair('ft', 'in');
const KG_G = unitPair('kg', 'g');
const A = ep('127.0.0.1', 4001);

describe('add', () => {
  it('creates once; the same endpoint for the same pair again only refreshes lastSeen', () => {
    const clock = manualClock();
    const registry = track(Registry.open({ path: ':memory:', now: clock.now }));
    expect(registry.add(FT_IN, A, { health: 'up' })).toEqual({ ok: true, created: true });
    registry.next(FT_IN);
    clock.advance(500);
    expect(registry.add(unitPair('in', 'ft'), A)).toEqual({ ok: true, created: false });
    expect(registry.find(A)).toMatchObject({ health: 'up', served: 1, addedAt: 1_000_000, lastSeen: 1_000_500 });
    expect(registry.counts()).toEqual({ pools: 1, endpoints: 1, up: 1, down: 0, pending: 0, wrong: 0, leased: 0, lapsed: 0 });
  });

  it('refuses an endpoint already serving another pair, naming that pair', () => {
    const registry = track(Registry.open({ path: ':memory:' }));
    registry.add(FT_IN, A);
    expect(registry.add(KG_G, A)).toEqual({ ok: false, code: 'ENTRY_EXISTS', existing: FT_IN });
    expect(registry.find(A)?.pair).toEqual(FT_IN);
  });

  it('treats every spelling of an address as one endpoint', () => {
    const registry = track(Registry.open({ path: ':memory:' }));
    registry.add(FT_IN, ep('::1', 4000));
    expect(registry.add(FT_IN, ep('0:0:0:0:0:0:0:1', 4000))).toEqual({ ok: true, created: false });
    expect(registry.find(ep('[::1]', 4000))?.endpoint).toEqual({ host: '::1', port: 4000 });
  });

  it('starts a new endpoint pending unless told up', () => {
    const registry = track(Registry.open({ path: ':memory:' }));
    registry.add(FT_IN, A);
    registry.add(FT_IN, ep('127.0.0.1', 4002), { health: 'up' });
    expect(registry.registrations().map((r) => r.health)).toEqual(['pending', 'up']);
  });

  it('refuses invalid pairs and endpoints with a code', () => {
    const registry = track(Registry.open({ path: ':memory:' }));
    expect(() => registry.add(['ft', 'ft'], A)).toThrow(expect.objectContaining({ code: 'INVALID_PAIR' }));
    expect(() => registry.add(FT_IN, ep('127.0.0.1', 70_000))).toThrow(expect.objectContaining({ code: 'INVALID_ENDPOINT' }));
    expect(registry.counts().endpoints).toBe(0);
  });
});

describe('remove', () => {
  it('removes from the pool and reports the pair; an unknown endpoint is NOT_REGISTERED', () => {
    const registry = track(Registry.open({ path: ':memory:' }));
    registry.add(FT_IN, A);
    expect(registry.remove(A)).toEqual({ ok: true, pair: FT_IN });
    expect(registry.remove(A)).toEqual({ ok: false, code: 'NOT_REGISTERED' });
    expect(registry.find(A)).toBeUndefined();
    expect(registry.counts()).toEqual({ pools: 0, endpoints: 0, up: 0, down: 0, pending: 0, wrong: 0, leased: 0, lapsed: 0 });
  });

  it('lets a converter that restarted elsewhere take its address for another pair (remove, re-add)', () => {
    const registry = track(Registry.open({ path: ':memory:' }));
    registry.add(FT_IN, A);
    const outcome = registry.add(KG_G, A);
    expect(outcome.ok).toBe(false);
    registry.remove(A);
    expect(registry.add(KG_G, A)).toEqual({ ok: true, created: true });
  });
});

describe('listing', () => {
  it('lists pools by their oldest endpoint, endpoints in pool order, with counts', () => {
    const registry = track(Registry.open({ path: ':memory:' }));
    registry.add(FT_IN, ep('127.0.0.1', 1));
    registry.add(KG_G, ep('127.0.0.1', 2), { health: 'up' });
    registry.add(FT_IN, ep('127.0.0.1', 3), { health: 'up' });
    registry.markDown(ep('127.0.0.1', 3));
    expect(registry.registrations().map((r) => `${r.pair.join('-')} ${r.endpoint.port} ${r.health}`)).toEqual([
      'ft-in 1 pending',
      'ft-in 3 down',
      'g-kg 2 up',
    ]);
    expect(registry.counts()).toEqual({ pools: 2, endpoints: 3, up: 1, down: 1, pending: 1, wrong: 0, leased: 0, lapsed: 0 });
  });

  it('hands out snapshots: changing one changes nothing inside', () => {
    const registry = track(Registry.open({ path: ':memory:' }));
    registry.add(FT_IN, A);
    const snapshot = registry.find(A)!;
    snapshot.health = 'up';
    snapshot.served = 99;
    expect(registry.find(A)).toMatchObject({ health: 'pending', served: 0 });
  });
});

describe('a store that refuses a write', () => {
  // A real implementation of the public store interface whose disk is "full".
  class FullStore extends MemoryRegistryStore implements RegistryStore {
    full = false;
    override put(...args: Parameters<MemoryRegistryStore['put']>): void {
      if (this.full) throw new Error('disk full');
      super.put(...args);
    }
    override delete(...args: Parameters<MemoryRegistryStore['delete']>): void {
      if (this.full) throw new Error('disk full');
      super.delete(...args);
    }
  }

  it('makes add, remove and sweep throw STORE_FAILED and leaves memory as it was', () => {
    const store = new FullStore();
    const clock = manualClock();
    const registry = track(Registry.open({ store, now: clock.now, policy: { pendingGraceMs: 10 } }));
    registry.add(FT_IN, A);
    store.full = true;
    const b = ep('127.0.0.1', 4002);
    expect(() => registry.add(FT_IN, b)).toThrow(expect.objectContaining({ code: 'STORE_FAILED' }));
    expect(() => registry.remove(A)).toThrow(RegistryError);
    clock.advance(11);
    expect(() => registry.sweep()).toThrow(expect.objectContaining({ code: 'STORE_FAILED' }));
    expect(registry.registrations().map((r) => r.endpoint)).toEqual([A]);
    store.full = false;
    expect(registry.sweep()).toHaveLength(1);
    expect(store.load()).toEqual([]);
  });
});

describe('options and close', () => {
  it('refuses unknown options, both or neither of path and store, and a bad policy', () => {
    expect(() => Registry.open({ path: ':memory:', colour: 'red' } as never)).toThrow(expect.objectContaining({ code: 'INVALID_OPTIONS' }));
    expect(() => Registry.open({})).toThrow(expect.objectContaining({ code: 'INVALID_OPTIONS' }));
    expect(() => Registry.open({ path: ':memory:', store: new MemoryRegistryStore() })).toThrow(expect.objectContaining({ code: 'INVALID_OPTIONS' }));
    expect(() => Registry.open({ path: ':memory:', policy: { failuresToDown: 0 } })).toThrowErrorMatchingInlineSnapshot(`[RegistryError: Expected failuresToDown to be an integer >= 1, received 0.]`);
    expect(() => Registry.open({ path: ':memory:', policy: { retries: 1 } as never })).toThrow(expect.objectContaining({ code: 'INVALID_OPTIONS' }));
  });

  it('throws CLOSED on any use after close, including held pool handles; close is idempotent', () => {
    const registry = Registry.open({ path: ':memory:' });
    registry.add(FT_IN, A, { health: 'up' });
    const pool = registry.pool(FT_IN);
    registry.close();
    registry.close();
    expect(() => registry.next(FT_IN)).toThrow(expect.objectContaining({ code: 'CLOSED' }));
    expect(() => pool.next()).toThrow(expect.objectContaining({ code: 'CLOSED' }));
    expect(() => registry.add(FT_IN, A)).toThrow(expect.objectContaining({ code: 'CLOSED' }));
    expect(() => registry.counts()).toThrow(expect.objectContaining({ code: 'CLOSED' }));
  });
});
