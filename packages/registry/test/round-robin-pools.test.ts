import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { Registry, unitPair, type Endpoint } from '../src/index';
import { ep } from './helpers';

const open: Registry[] = [];
afterEach(() => {
  for (const registry of open.splice(0)) registry.close();
});
function memoryRegistry(): Registry {
  const registry = Registry.open({ path: ':memory:' });
  open.push(registry);
  return registry;
}

const FT_IN = unitPair('ft', 'in');
const A = ep('127.0.0.1', 4001);
const B = ep('127.0.0.1', 4002);
const C = ep('127.0.0.1', 4003);
const D = ep('127.0.0.1', 4004);
const ports = (registry: Registry, calls: number, pair = FT_IN): (number | undefined)[] =>
  Array.from({ length: calls }, () => registry.next(pair)?.port);

function withUp(...endpoints: Endpoint[]): Registry {
  const registry = memoryRegistry();
  for (const e of endpoints) registry.add(FT_IN, e, { health: 'up' });
  return registry;
}

describe('round robin as the seeds define it', () => {
  it('serves the first endpoint first, then the one after the last used, wrapping', () => {
    expect(ports(withUp(A, B, C), 7)).toEqual([4001, 4002, 4003, 4001, 4002, 4003, 4001]);
  });

  it('is order-insensitive in the pair asked for', () => {
    const registry = withUp(A, B);
    expect(registry.next(['in', 'ft'])).toEqual(A);
    expect(registry.next(['ft', 'in'])).toEqual(B);
  });

  it('has nothing for an unknown pair or a pool with nothing up', () => {
    const registry = memoryRegistry();
    expect(registry.next(unitPair('kg', 'g'))).toBeUndefined();
    registry.add(FT_IN, A);
    expect(registry.next(FT_IN)).toBeUndefined();
  });

  it('serves an endpoint added after the last-used one at the end of the pool next', () => {
    const registry = withUp(A, B);
    expect(ports(registry, 2)).toEqual([4001, 4002]);
    registry.add(FT_IN, C, { health: 'up' });
    expect(ports(registry, 4)).toEqual([4003, 4001, 4002, 4003]);
  });

  it('keeps its place when an endpoint before the cursor is removed', () => {
    const registry = withUp(A, B, C, D);
    expect(ports(registry, 2)).toEqual([4001, 4002]);
    registry.remove(A);
    expect(ports(registry, 4)).toEqual([4003, 4004, 4002, 4003]);
  });

  it('moves on to the successor when the next-in-line endpoint is removed', () => {
    const registry = withUp(A, B, C, D);
    expect(ports(registry, 1)).toEqual([4001]);
    registry.remove(B);
    expect(ports(registry, 3)).toEqual([4003, 4004, 4001]);
  });

  it('never returns a removed endpoint again, even the last one used', () => {
    const registry = withUp(A, B, C);
    expect(ports(registry, 2)).toEqual([4001, 4002]);
    registry.remove(B);
    const after = ports(registry, 30);
    expect(after).not.toContain(4002);
    expect(after.slice(0, 3)).toEqual([4003, 4001, 4003]);
  });

  it('skips endpoints that are not up', () => {
    const registry = withUp(A, B, C);
    registry.markDown(B);
    expect(ports(registry, 4)).toEqual([4001, 4003, 4001, 4003]);
    registry.add(FT_IN, D); // pending: not served
    expect(ports(registry, 2)).toEqual([4001, 4003]);
  });

  it('starts over at the first endpoint once a pool has emptied and refilled', () => {
    const registry = withUp(A, B);
    expect(ports(registry, 1)).toEqual([4001]);
    registry.remove(A);
    registry.remove(B);
    registry.add(FT_IN, C, { health: 'up' });
    registry.add(FT_IN, D, { health: 'up' });
    expect(ports(registry, 3)).toEqual([4003, 4004, 4003]);
  });

  it('serves every endpoint of a stable pool N/k times, give or take one', () => {
    const registry = memoryRegistry();
    const k = 7;
    for (let i = 0; i < k; i++) registry.add(FT_IN, ep('127.0.0.1', 5000 + i), { health: 'up' });
    const n = 10_003;
    const tally = new Map<number, number>();
    for (const port of ports(registry, n)) tally.set(port!, (tally.get(port!) ?? 0) + 1);
    expect(tally.size).toBe(k);
    for (const count of tally.values()) expect(Math.abs(count - n / k)).toBeLessThanOrEqual(1);
    expect(registry.registrations().map((r) => r.served).reduce((x, y) => x + y)).toBe(n);
  });

  it('hands out the same rotation through a held pool handle, across emptying and refilling', () => {
    const registry = withUp(A, B);
    const pool = registry.pool(unitPair('in', 'ft'));
    expect(pool.pair).toEqual(FT_IN);
    expect([pool.next(), registry.next(FT_IN), pool.next()]).toEqual([A, B, A]);
    registry.remove(A);
    registry.remove(B);
    expect(pool.next()).toBeUndefined();
    expect(pool.endpoints()).toEqual([]);
    registry.add(FT_IN, C, { health: 'up' });
    expect(pool.next()).toEqual(C);
    expect(pool.endpoints()).toEqual([C]);
  });
});

// A deliberately different implementation of the seeds' rule: removed endpoints stay in the
// list as tombstones, and the next endpoint is found by scanning on from the last used one.
class ModelPool {
  slots: { port: number; up: boolean; removed: boolean }[] = [];
  lastUsed = -1;
  next(): number | undefined {
    const n = this.slots.length;
    for (let step = 1; step <= n; step++) {
      const i = (this.lastUsed + step) % n;
      const slot = this.slots[i]!;
      if (!slot.removed && slot.up) {
        this.lastUsed = i;
        return slot.port;
      }
    }
    return undefined;
  }
  live(port: number) {
    return this.slots.find((s) => s.port === port && !s.removed);
  }
  remove(port: number): void {
    const slot = this.live(port);
    if (slot === undefined) return;
    slot.removed = true;
    if (this.slots.every((s) => s.removed)) {
      this.slots = [];
      this.lastUsed = -1;
    }
  }
}

describe('round robin under any interleaving of changes', () => {
  it('matches the tombstone model for random adds, removes, health changes and calls', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('add' as const), port: fc.integer({ min: 1, max: 8 }), up: fc.boolean() }),
      fc.record({ kind: fc.constant('remove' as const), port: fc.integer({ min: 1, max: 8 }) }),
      fc.record({ kind: fc.constant('down' as const), port: fc.integer({ min: 1, max: 8 }) }),
      fc.record({ kind: fc.constant('probeOk' as const), port: fc.integer({ min: 1, max: 8 }) }),
      fc.record({ kind: fc.constant('next' as const), times: fc.integer({ min: 1, max: 5 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const registry = Registry.open({ path: ':memory:', policy: { successesToUp: 1 } });
        const model = new ModelPool();
        try {
          for (const o of ops) {
            switch (o.kind) {
              case 'add': {
                const created = model.live(o.port) === undefined;
                const outcome = registry.add(FT_IN, ep('127.0.0.1', o.port), { health: o.up ? 'up' : 'pending' });
                expect(outcome).toEqual({ ok: true, created });
                if (created) model.slots.push({ port: o.port, up: o.up, removed: false });
                break;
              }
              case 'remove':
                expect(registry.remove(ep('127.0.0.1', o.port)).ok).toBe(model.live(o.port) !== undefined);
                model.remove(o.port);
                break;
              case 'down': {
                registry.markDown(ep('127.0.0.1', o.port));
                const slot = model.live(o.port);
                if (slot) slot.up = false;
                break;
              }
              case 'probeOk': {
                registry.recordProbe(ep('127.0.0.1', o.port), true);
                const slot = model.live(o.port);
                if (slot) slot.up = true;
                break;
              }
              case 'next':
                for (let i = 0; i < o.times; i++) expect(registry.next(FT_IN)?.port).toBe(model.next());
                break;
            }
          }
        } finally {
          registry.close();
        }
      }),
      { numRuns: 300 },
    );
  });
});
