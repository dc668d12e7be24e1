import { describe, expect, it } from 'vitest';
import { World, request } from './in-memory-world';

const settle = () => new Promise((resolve) => setImmediate(resolve));

// Found by the chaos harness (apps/conv/src/chaos, a 5-minute soak): the proxy reported all
// three replicas of lbs:b (one SIGSTOPped, then resumed; one SIGKILLed; one SIGSTOPped) and
// discovery removed them; the resumed one answered again but had not yet re-announced itself.
// A background refresh got NO_PATH, dropped every cached path through lbs:b, and the next
// 208 requests got NO_PATH although the proxy could still answer them.
describe('a cached path that still answers', () => {
  it('is kept when a refresh gets NO_PATH from discovery, and dropped once its hops fail too', async () => {
    const world = new World();
    const converter = world.add(['ft', 'in'], 12);
    world.path('ft', 'in', [['ft', 'in']]);
    const router = world.router({ pathTtlMs: 2000 });
    expect(await router.answer(request('ft in 1'))).toBe('12\n');

    // Discovery forgets the pair (every replica reported), but the converter still answers.
    world.pools.clear();
    world.paths.clear();
    world.clock += 2001;
    expect(await router.answer(request('ft in 1'))).toBe('12\n');
    await settle();
    const refreshes = world.discoveryRequests.filter((r) => r.verb === 'LOOKUP_MULTI').length;
    expect(refreshes).toBe(2);
    expect(await router.answer(request('ft in 2'))).toBe('24\n');

    // Now it dies too: the client gets discovery's NO_PATH, and the path is gone.
    world.converter(converter).behaviour = 'dead';
    expect(await router.answer(request('ft in 1'))).toMatch(/\(NO_PATH\)\n$/);
    const calls = world.converter(converter).calls;
    expect(await router.answer(request('ft in 1'))).toMatch(/\(NO_PATH\)\n$/);
    expect(world.converter(converter).calls).toBe(calls);
  });
});
