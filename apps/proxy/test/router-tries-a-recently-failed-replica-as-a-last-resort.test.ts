import { describe, expect, it } from 'vitest';
import { World, aReplicaThatFailedAndCameBack, request } from './in-memory-world';

// Found by the chaos harness (apps/conv/src/chaos): a replica that hung for two seconds was
// marked failed; once it resumed it was the only live replica of its pair, discovery handed it
// out again, and the proxy still answered UNAVAILABLE to a thousand requests until its local
// failure mark expired.
describe('a failure mark is a preference, not a ban', () => {
  it('uses a replica that failed recently when discovery hands it out again and nothing else is left', async () => {
    const world = new World();
    const { router } = await aReplicaThatFailedAndCameBack(world, 3000);
    expect(await router.answer(request('ft in 1'))).toBe('12\n');
    // Once it answered it is a normal replica again: no more detours through discovery.
    const lookups = world.discoveryRequests.filter((r) => r.verb === 'LOOKUP').length;
    expect(await router.answer(request('ft in 2'))).toBe('24\n');
    expect(world.discoveryRequests.filter((r) => r.verb === 'LOOKUP').length).toBe(lookups);
  });

  it('while discovery is down, tries a replica it forgot (restarted on its port) before failing the client', async () => {
    const world = new World();
    const restarted = world.add(['ft', 'in'], 12);
    const other = world.add(['ft', 'in'], 12);
    world.path('ft', 'in', [['ft', 'in']]);
    const router = world.router({ failedTtlMs: 3000 });
    // Learn both replicas: each path refresh names the next one in discovery's round robin.
    for (let i = 0; i < 4; i++) {
      world.clock += 2001;
      expect(await router.answer(request('ft in 1'))).toBe('12\n');
    }
    expect(router.book.known('ft', 'in')).toHaveLength(2);
    // The first is killed: the proxy fails over, reports and forgets it. Discovery goes down.
    world.converter(restarted).behaviour = 'dead';
    for (let i = 0; i < 2; i++) expect(await router.answer(request('ft in 1'))).toBe('12\n');
    expect(router.book.known('ft', 'in')).toEqual([other]);
    world.discoveryUp = false;
    // The first comes back on its port (it cannot register: discovery is down); the other dies.
    world.converter(restarted).behaviour = 'ok';
    world.converter(other).behaviour = 'dead';
    expect(await router.answer(request('ft in 1'))).toBe('12\n');
  });

  it('spends at most one extra attempt per hop when every replica is really dead', async () => {
    const world = new World();
    const a = world.add(['ft', 'in'], 12, 'dead');
    const b = world.add(['ft', 'in'], 12, 'dead');
    world.path('ft', 'in', [['ft', 'in']]);
    const router = world.router({ failedTtlMs: 3000 });
    expect(await router.answer(request('ft in 1'))).toMatch(/\(UNAVAILABLE\)/);
    const calls = () => world.converter(a).calls + world.converter(b).calls;
    const before = calls();
    expect(await router.answer(request('ft in 1'))).toMatch(/^FAILURE /);
    expect(calls() - before).toBe(1);
  });
});
