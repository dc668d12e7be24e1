import { describe, expect, it } from 'vitest';
import { World, aReplicaThatFailedAndCameBack, request } from './in-memory-world';

/** A world with ft:in, in:cm, cm:m (two replicas each) and the paths between them. */
function lengths(): World {
  const world = new World();
  world.add(['ft', 'in'], 12);
  world.add(['ft', 'in'], 12);
  world.add(['in', 'cm'], 2.54);
  world.add(['in', 'cm'], 2.54);
  world.add(['cm', 'm'], 0.01);
  world.path('ft', 'in', [['ft', 'in']]);
  world.path('in', 'ft', [['in', 'ft']]);
  world.path('ft', 'm', [['ft', 'in'], ['in', 'cm'], ['cm', 'm']]);
  world.path('m', 'ft', [['m', 'cm'], ['cm', 'in'], ['in', 'ft']]);
  return world;
}

describe('hop chaining', () => {
  it('answers a one-hop question both ways', async () => {
    const router = lengths().router();
    expect(await router.answer(request('ft in 1.25'))).toBe('15\n');
    expect(await router.answer(request('in ft 30'))).toBe('2.5\n');
  });

  it('feeds each hop answer into the next hop, both ways', async () => {
    const router = lengths().router();
    expect(await router.answer(request('ft m 1'))).toBe('0.3048\n');
    expect(await router.answer(request('m ft 0.3048'))).toBe('1\n');
  });

  it('answers a unit converted to itself unchanged, without asking anyone', async () => {
    const world = lengths();
    expect(await world.router().answer(request('ft ft 2.5'))).toBe('2.5\n');
    expect(world.discoveryRequests).toEqual([]);
  });

  it('passes discovery NO_PATH through with its code', async () => {
    expect(await lengths().router().answer(request('ft kg 1'))).toMatch(/^FAILURE no path\. .*\(NO_PATH\)\n$/);
  });

  it('turns a hop FAILURE into one UPSTREAM_FAILED line naming the hop and the endpoint', async () => {
    const world = new World();
    const endpoint = world.add(['ft', 'in'], 12, 'refuses-request');
    world.path('ft', 'in', [['ft', 'in']]);
    const reply = await world.router().answer(request('ft in 1'));
    expect(reply).toBe(
      `FAILURE upstream failed. hop ft->in at 127.0.0.1:${endpoint.port} said: bad amount. "x" is not a decimal number. [BAD_AMOUNT] (UPSTREAM_FAILED)\n`,
    );
    expect(world.reports).toEqual([]);
  });

  it('spreads requests over the replicas of a pair it has learned', async () => {
    const world = lengths();
    const router = world.router();
    await router.answer(request('ft in 1'));
    world.clock += 5000; // stale: the background refresh learns the second replica
    await router.answer(request('ft in 1'));
    for (let i = 0; i < 4; i++) await router.answer(request('ft in 1'));
    const calls = [...world.converters.values()].filter((c) => c.units[0] === 'ft').map((c) => c.calls);
    // Both ft:in replicas, each called at least twice (an empty list would pass every()).
    expect(calls).toHaveLength(2);
    expect(calls.every((n) => n >= 2)).toBe(true);
  });
});

describe('failover', () => {
  it.each(['dead', 'wrong-pair', 'garbage'] as const)('reports a %s endpoint, skips it, and answers from the other replica', async (behaviour) => {
    const world = new World();
    const bad = world.add(['ft', 'in'], 12, behaviour);
    world.add(['ft', 'in'], 12);
    world.path('ft', 'in', [['ft', 'in']]);
    const router = world.router();
    for (let i = 0; i < 4; i++) expect(await router.answer(request('ft in 1'))).toBe('12\n');
    expect(world.reports).toEqual([bad]);
    expect(world.converter(bad).calls).toBe(1);
    expect(router.stats.failovers).toBe(1);
  });

  it('retries a busy replica elsewhere without reporting it', async () => {
    const world = new World();
    world.add(['ft', 'in'], 12, 'busy');
    world.add(['ft', 'in'], 12);
    world.path('ft', 'in', [['ft', 'in']]);
    const router = world.router();
    expect(await router.answer(request('ft in 1'))).toBe('12\n');
    expect(world.reports).toEqual([]);
    expect(router.stats.retries).toBe(1);
  });

  it('fails over on the middle hop of a multi-hop path', async () => {
    const world = lengths();
    for (const converter of world.converters.values()) if (converter.units[0] === 'in') converter.behaviour = 'dead';
    world.add(['in', 'cm'], 2.54);
    const router = world.router();
    expect(await router.answer(request('ft m 1'))).toBe('0.3048\n');
    expect(world.reports.length).toBeGreaterThanOrEqual(1);
  });

  it('says UNAVAILABLE naming the pair when every replica is dead, then uses a new one', async () => {
    const world = new World();
    world.add(['ft', 'in'], 12, 'dead');
    world.add(['ft', 'in'], 12, 'dead');
    world.path('ft', 'in', [['ft', 'in']]);
    const router = world.router();
    const reply = await router.answer(request('ft in 1'));
    expect(reply).toBe('FAILURE unavailable. No live server converts ft <-> in. (UNAVAILABLE)\n');
    expect(world.reports).toHaveLength(2);
    world.add(['ft', 'in'], 12);
    expect(await router.answer(request('ft in 1'))).toBe('12\n');
  });

  it('reports an endpoint once per failure window even when many requests hit it', async () => {
    const world = new World();
    const bad = world.add(['ft', 'in'], 12, 'dead');
    world.add(['ft', 'in'], 12);
    world.path('ft', 'in', [['ft', 'in']]);
    const router = world.router();
    // Learn both replicas first, as discovery round-robins them.
    await router.answer(request('ft in 1'));
    world.pools.get('ft in')?.endpoints.push(bad);
    const replies = await Promise.all(Array.from({ length: 8 }, () => router.answer(request('ft in 2'))));
    expect(replies.every((reply) => reply === '24\n')).toBe(true);
    expect(world.reports.filter((e) => e.port === bad.port)).toHaveLength(1);
  });

  it('gives a failed endpoint another chance once its failure is old', async () => {
    const world = new World();
    // It comes back and registers again. Nothing else is left for the pair, so it is tried at
    // once as a last resort (router-tries-a-recently-failed-replica-as-a-last-resort.test.ts).
    const { router } = await aReplicaThatFailedAndCameBack(world, 3000);
    expect(await router.answer(request('ft in 1'))).toBe('12\n');
    world.clock += 3001;
    expect(await router.answer(request('ft in 1'))).toBe('12\n');
  });
});

describe('discovery outages', () => {
  it('answers from a cached path while discovery is down, up to the stale TTL', async () => {
    const world = lengths();
    const router = world.router({ pathTtlMs: 2000, staleTtlMs: 60_000 });
    expect(await router.answer(request('ft m 1'))).toBe('0.3048\n');
    world.discoveryUp = false;
    world.clock += 30_000;
    expect(await router.answer(request('ft m 1'))).toBe('0.3048\n');
    world.clock += 31_000;
    expect(await router.answer(request('ft m 1'))).toMatch(/^FAILURE unavailable\. discovery at 127\.0\.0\.1:5555 is unreachable.*\(UNAVAILABLE\)\n$/);
  });

  it('says UNAVAILABLE for a path it never learned while discovery is down', async () => {
    const world = lengths();
    world.discoveryUp = false;
    expect(await world.router().answer(request('ft in 1'))).toMatch(/\(UNAVAILABLE\)\n$/);
  });

  it('uses a fresh path without asking discovery, and refreshes a stale one', async () => {
    const world = lengths();
    const router = world.router({ pathTtlMs: 2000 });
    await router.answer(request('ft in 1'));
    await router.answer(request('ft in 1'));
    const lookups = () => world.discoveryRequests.filter((r) => r.verb === 'LOOKUP_MULTI').length;
    expect(lookups()).toBe(1);
    world.clock += 2000;
    await router.answer(request('ft in 1'));
    expect(lookups()).toBe(2);
  });

  it('routes around a cached path whose pairs are gone', async () => {
    const world = new World();
    world.add(['ft', 'in'], 12);
    const gone = world.add(['in', 'cm'], 2.54);
    world.path('ft', 'cm', [['ft', 'in'], ['in', 'cm']]);
    const router = world.router();
    expect(await router.answer(request('ft cm 1'))).toBe('30.48\n');
    world.converter(gone).behaviour = 'dead';
    world.pools.delete('cm in');
    world.add(['ft', 'cm'], 30.48);
    world.path('ft', 'cm', [['ft', 'cm']]);
    expect(await router.answer(request('ft cm 1'))).toBe('30.48\n');
    expect(router.stats.reroutes).toBe(1);
  });
});
