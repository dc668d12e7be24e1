import { afterEach, describe, expect, it } from 'vitest';
import { MemorySharedRegistryStore, RegistryError, SharedRegistry, unitPair, type RemoteEffect } from '../src/index';
import { ep, until } from './helpers';

const FT_IN = unitPair('ft', 'in');
const KG_G = unitPair('kg', 'g');

const ports = (registry: SharedRegistry) => registry.registrations().map((r) => r.endpoint.port);

describe('registries sharing one store (two replicas)', () => {
  const open: SharedRegistry[] = [];
  afterEach(() => {
    for (const registry of open.splice(0)) registry.close();
  });

  async function replicas() {
    const store = new MemorySharedRegistryStore();
    const effects: { a: RemoteEffect[]; b: RemoteEffect[] } = { a: [], b: [] };
    const broken: { a: Error[]; b: Error[] } = { a: [], b: [] };
    const a = await SharedRegistry.open({ store, onRemote: (e) => effects.a.push(e), onBroken: (e) => broken.a.push(e) });
    const b = await SharedRegistry.open({ store: store.peer(), onRemote: (e) => effects.b.push(e), onBroken: (e) => broken.b.push(e) });
    open.push(a, b);
    return { store, a, b, effects, broken };
  }

  it('shows an ADD on one replica to the other, pending there until probed', async () => {
    const { a, b, effects } = await replicas();
    expect(a).toBeInstanceOf(SharedRegistry);
    await expect(a.add(FT_IN, ep('127.0.0.1', 4001), { health: 'up' })).resolves.toEqual({ ok: true, created: true });
    expect(a.next(FT_IN)).toEqual(ep('127.0.0.1', 4001));
    await until(() => b.find(ep('127.0.0.1', 4001)) !== undefined, 'the ADD on b');
    expect(b.find(ep('127.0.0.1', 4001))?.health).toBe('pending');
    expect(b.next(FT_IN)).toBeUndefined();
    b.recordProbe(ep('127.0.0.1', 4001), true);
    expect(b.next(FT_IN)).toEqual(ep('127.0.0.1', 4001));
    expect(effects.b).toEqual([{ kind: 'added', endpoint: ep('127.0.0.1', 4001), pair: FT_IN }]);
    // Its own write's echo is recognised: applied once, reported to nobody.
    await until(() => effects.a.length === 0 && a.counts().endpoints === 1, 'a settled');
    expect(effects.a).toEqual([]);
  });

  it('shows a REMOVE on one replica to the other, which never returns it again', async () => {
    const { a, b } = await replicas();
    await a.add(FT_IN, ep('127.0.0.1', 4001), { health: 'up' });
    await until(() => b.find(ep('127.0.0.1', 4001)) !== undefined, 'the ADD on b');
    b.recordProbe(ep('127.0.0.1', 4001), true);
    await expect(a.remove(ep('127.0.0.1', 4001))).resolves.toEqual({ ok: true, pair: FT_IN });
    expect(a.find(ep('127.0.0.1', 4001))).toBeUndefined();
    await until(() => b.find(ep('127.0.0.1', 4001)) === undefined, 'the REMOVE on b');
    expect(b.next(FT_IN)).toBeUndefined();
    await expect(b.remove(ep('127.0.0.1', 4001))).resolves.toEqual({ ok: false, code: 'NOT_REGISTERED' });
  });

  it('keeps one pool order on every replica, whichever replica wrote first', async () => {
    const { a, b } = await replicas();
    await a.add(FT_IN, ep('127.0.0.1', 4001));
    await b.add(FT_IN, ep('127.0.0.1', 4002));
    await a.add(KG_G, ep('127.0.0.1', 4003));
    await b.add(FT_IN, ep('127.0.0.1', 4004));
    await until(() => a.counts().endpoints === 4 && b.counts().endpoints === 4, 'both replicas full');
    expect(ports(a)).toEqual([4001, 4002, 4004, 4003]);
    expect(ports(b)).toEqual(ports(a));
  });

  it('rotates per replica: each replica has its own cursor over the same pool', async () => {
    const { a, b } = await replicas();
    for (const port of [4001, 4002, 4003]) await a.add(FT_IN, ep('127.0.0.1', port), { health: 'up' });
    await until(() => b.counts().endpoints === 3, 'b full');
    for (const port of [4001, 4002, 4003]) b.recordProbe(ep('127.0.0.1', port), true);
    expect([a.next(FT_IN), a.next(FT_IN)].map((e) => e?.port)).toEqual([4001, 4002]);
    expect([b.next(FT_IN), b.next(FT_IN), b.next(FT_IN), b.next(FT_IN)].map((e) => e?.port)).toEqual([4001, 4002, 4003, 4001]);
    expect(a.next(FT_IN)?.port).toBe(4003);
  });

  it('refuses the same endpoint for another pair, even when only the store knows it yet', async () => {
    const { a, b } = await replicas();
    await a.add(FT_IN, ep('127.0.0.1', 4001));
    // b may not have seen it yet: the store's conflict answer decides.
    await expect(b.add(KG_G, ep('127.0.0.1', 4001))).resolves.toEqual({ ok: false, code: 'ENTRY_EXISTS', existing: FT_IN });
    expect(b.find(ep('127.0.0.1', 4001))?.pair).toEqual(FT_IN);
  });

  it('answers a repeated ADD as a refresh, not a new registration', async () => {
    const { a, b } = await replicas();
    await a.add(FT_IN, ep('127.0.0.1', 4001));
    await expect(b.add(FT_IN, ep('127.0.0.1', 4001))).resolves.toEqual({ ok: true, created: false });
    await expect(a.add(FT_IN, ep('127.0.0.1', 4001))).resolves.toEqual({ ok: true, created: false });
    expect(a.counts().endpoints).toBe(1);
  });

  it('ignores a change older than what an entry already reflects (a late echo never undoes a write)', async () => {
    const { a } = await replicas();
    await a.add(FT_IN, ep('127.0.0.1', 4001));
    // The memory store's first write is revision 2: a delete at revision 1 predates it.
    expect(a.applyRemote({ kind: 'delete', endpoint: ep('127.0.0.1', 4001), revision: 1 })).toBeUndefined();
    expect(a.find(ep('127.0.0.1', 4001))).toBeDefined();
    await a.remove(ep('127.0.0.1', 4001));
    const stalePut = { pair: FT_IN, endpoint: ep('127.0.0.1', 4001), addedAt: 1, order: 2, revision: 2 };
    expect(a.applyRemote({ kind: 'put', record: stalePut })).toBeUndefined();
    expect(a.find(ep('127.0.0.1', 4001))).toBeUndefined();
  });

  it('answers add and remove once the store has committed them (promises), and sweeps nothing', async () => {
    const { a } = await replicas();
    const adding = a.add(FT_IN, ep('127.0.0.1', 4001));
    expect(adding).toBeInstanceOf(Promise);
    await expect(adding).resolves.toEqual({ ok: true, created: true });
    const removing = a.remove(ep('127.0.0.1', 4001));
    expect(removing).toBeInstanceOf(Promise);
    await expect(removing).resolves.toEqual({ ok: true, pair: FT_IN });
    await a.add(FT_IN, ep('127.0.0.1', 4001));
    expect(a.sweep()).toEqual([]);
  });

  it('store down: reads keep working, writes fail UNAVAILABLE changing nothing; resync catches up', async () => {
    const { store, a, b, broken } = await replicas();
    await a.add(FT_IN, ep('127.0.0.1', 4001), { health: 'up' });
    await b.add(FT_IN, ep('127.0.0.1', 4002), { health: 'up' });
    await until(() => a.counts().endpoints === 2, 'a sees both');
    a.recordProbe(ep('127.0.0.1', 4002), true);
    a.next(FT_IN);

    store.setAvailable(false);
    await until(() => broken.a.length === 1 && broken.b.length === 1, 'both feeds broken');
    const refused = await a.add(FT_IN, ep('127.0.0.1', 4003)).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(RegistryError);
    expect((refused as RegistryError).code).toBe('UNAVAILABLE');
    expect(a.find(ep('127.0.0.1', 4003))).toBeUndefined();
    await expect(a.remove(ep('127.0.0.1', 4001))).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect(a.next(FT_IN)?.port).toBe(4002);
    await expect(a.resync()).rejects.toMatchObject({ code: 'UNAVAILABLE' });

    store.setAvailable(true);
    // b catches up first and changes the registry while a is still behind.
    await b.resync();
    await b.remove(ep('127.0.0.1', 4001));
    await b.add(KG_G, ep('127.0.0.1', 4005));
    const caughtUp = await a.resync();
    expect(caughtUp.effects).toEqual([
      { kind: 'added', endpoint: ep('127.0.0.1', 4005), pair: KG_G },
      { kind: 'removed', endpoint: ep('127.0.0.1', 4001), pair: FT_IN, from: 'up' },
    ]);
    // 4002 stayed: it keeps its health and its place in the rotation.
    expect(a.find(ep('127.0.0.1', 4002))?.health).toBe('up');
    expect(a.next(FT_IN)?.port).toBe(4002);
    // And it follows the store again.
    await b.add(KG_G, ep('127.0.0.1', 4006));
    await until(() => a.find(ep('127.0.0.1', 4006)) !== undefined, 'a follows again');
  });

  it('reopens from the store in the store order, every endpoint pending', async () => {
    const { store, a } = await replicas();
    await a.add(KG_G, ep('127.0.0.1', 4002), { health: 'up' });
    await a.add(FT_IN, ep('127.0.0.1', 4001), { health: 'up' });
    const again = await SharedRegistry.open({ store: store.peer() });
    open.push(again);
    expect(ports(again)).toEqual([4002, 4001]);
    expect(again.counts()).toMatchObject({ endpoints: 2, pending: 2 });
  });
});
