import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { MemorySharedRegistryStore, SharedRegistry, unitPair, type Endpoint } from '../src/index';
import { ep } from './helpers';

// A replica's own write and the watch race: the watch may bring changes to the key being
// written (its own echo, or another replica's later change) before the write's answer. Those
// are held until the answer and applied after it. Whatever other keys did meanwhile, every
// replica must end with exactly what the store holds (issue 17, "Replicas can diverge").

const FT_IN = unitPair('ft', 'in');
const KG_G = unitPair('kg', 'g');
const X = ep('127.0.0.1', 4001);
const Z = ep('127.0.0.1', 4002);

/** Polls until `probe` holds or the deadline passes; returns whether it held (the test asserts after). */
async function settled(probe: () => boolean | Promise<boolean>, timeoutMs = 2_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await probe()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const keys = (endpoints: readonly Endpoint[]) => endpoints.map((e) => `${e.host}:${e.port}`).sort();
const held = (registry: SharedRegistry) => keys(registry.registrations().map((r) => r.endpoint));
const stored = async (store: MemorySharedRegistryStore) => keys((await store.load()).records.map((r) => r.endpoint));
const same = (x: readonly string[], y: readonly string[]) => JSON.stringify(x) === JSON.stringify(y);

describe('a replica follows the shared store exactly, key by key', () => {
  const open: SharedRegistry[] = [];
  afterEach(() => {
    for (const registry of open.splice(0)) registry.close();
  });

  async function replicas() {
    const slow = new MemorySharedRegistryStore();
    // Each replica its own clock, so that a registration shows which replica made it (addedAt).
    const a = await SharedRegistry.open({ store: slow, now: () => 1_000 });
    const b = await SharedRegistry.open({ store: slow.peer(), now: () => 2_000 });
    open.push(a, b);
    return { slow, a, b };
  }

  async function convergedOnTheStore(store: MemorySharedRegistryStore, ...registries: SharedRegistry[]): Promise<void> {
    await settled(async () => {
      const truth = await stored(store);
      return registries.every((registry) => same(held(registry), truth));
    });
    const truth = await stored(store);
    for (const registry of registries) expect(held(registry)).toEqual(truth);
  }

  it('keeps an endpoint re-added by another replica while its own REMOVE of it was in flight', async () => {
    const { slow, a, b } = await replicas();
    await a.add(FT_IN, X);
    await settled(() => b.find(X) !== undefined);

    const answers = slow.holdAnswers();
    const removing = a.remove(X);
    await settled(() => b.find(X) === undefined);
    await b.add(FT_IN, X);
    // Another key moves the feed past X's re-add before a hears its REMOVE committed.
    await b.add(KG_G, Z);
    await settled(() => a.find(Z) !== undefined);
    answers.release();
    await expect(removing).resolves.toEqual({ ok: true, pair: FT_IN });

    // The store and b hold two registrations; a must too.
    expect(await stored(slow)).toEqual(keys([X, Z]));
    await convergedOnTheStore(slow, a, b);
  });

  it('drops an endpoint removed by another replica while its own ADD of it was in flight', async () => {
    const { slow, a, b } = await replicas();
    const answers = slow.holdAnswers();
    const adding = a.add(FT_IN, X);
    await settled(() => b.find(X) !== undefined);
    await b.remove(X);
    await b.add(KG_G, Z);
    await settled(() => a.find(Z) !== undefined);
    answers.release();
    await expect(adding).resolves.toEqual({ ok: true, created: true });

    // The ADD was acknowledged, then removed by b: removed it stays, on a too.
    expect(await stored(slow)).toEqual(keys([Z]));
    await convergedOnTheStore(slow, a, b);
  });

  it('shows a write that committed though its answer was lost (a deadline), once the watch brings it', async () => {
    const { slow, a, b } = await replicas();
    const answers = slow.holdAnswers();
    const adding = a.add(FT_IN, X);
    await settled(() => b.find(X) !== undefined);
    await b.add(KG_G, Z);
    await settled(() => a.find(Z) !== undefined);
    answers.release({ lose: true });
    await expect(adding).rejects.toMatchObject({ code: 'UNAVAILABLE' });

    expect(await stored(slow)).toEqual(keys([X, Z]));
    await convergedOnTheStore(slow, a, b);
  });

  it('applies each key in revision order: a late answer never undoes a newer change to its key', async () => {
    const { slow, a, b } = await replicas();
    await a.add(FT_IN, X);
    const answers = slow.holdAnswers();
    // a refreshes X (answered with the record as it was) while b removes it and adds it again.
    const refreshing = a.add(FT_IN, X);
    await settled(() => b.find(X) !== undefined);
    await b.remove(X);
    await b.add(FT_IN, X);
    answers.release();
    await expect(refreshing).resolves.toEqual({ ok: true, created: false });
    await convergedOnTheStore(slow, a, b);
    // X is in a's pool as the store's new registration (b's), not the one a refreshed.
    expect((await slow.load()).records.map((r) => r.addedAt)).toEqual([2_000]);
    expect(a.find(X)?.addedAt).toBe(2_000);
  });

  it('keeps what a reload showed when the answer to a write from before it comes late', async () => {
    const { slow, a, b } = await replicas();
    const answers = slow.holdAnswers();
    const adding = a.add(FT_IN, X);
    await settled(() => b.find(X) !== undefined);
    await b.remove(X);
    // a catches up (as after a broken watch) while its ADD is still unanswered.
    await a.resync();
    expect(a.find(X)).toBeUndefined();
    answers.release();
    await expect(adding).resolves.toEqual({ ok: true, created: true });
    expect(await stored(slow)).toEqual([]);
    await convergedOnTheStore(slow, a, b);
  });

  it('reloads when its watch fell behind a compaction, then follows the store again', async () => {
    const { slow, a, b } = await replicas();
    await a.add(FT_IN, X);
    await settled(() => b.find(X) !== undefined);
    const broken: Error[] = [];
    const c = await SharedRegistry.open({ store: slow.peer(), onBroken: (error) => broken.push(error) });
    open.push(c);
    // b's REMOVE and ADD reach c's watch later; the store compacts to the latest revision
    // before they are delivered: c's watch is behind the compaction, and c missed them.
    const writes = Promise.all([b.remove(X), b.add(KG_G, Z)]);
    slow.compact(Number.MAX_SAFE_INTEGER);
    await writes;
    await settled(() => broken.length === 1);
    expect(broken[0]?.message).toMatch(/compacted/);
    expect(held(c)).toEqual(keys([X]));
    // Every replica behind the compaction (a and b were too) reloads, as discovery does on onBroken.
    for (const registry of [a, b, c]) await registry.resync();
    await convergedOnTheStore(slow, a, b, c);
    // And it follows again from the reload on.
    await b.remove(Z);
    await convergedOnTheStore(slow, a, b, c);
  });

  it('ends with exactly what the store holds, for any interleaving of writes, slow answers and lost answers', async () => {
    type Replica = 'a' | 'b';
    type Step =
      | { kind: 'add'; by: Replica; port: number; pair: 'ft-in' | 'kg-g' }
      | { kind: 'remove'; by: Replica; port: number }
      | { kind: 'hold'; by: Replica }
      | { kind: 'release'; by: Replica; lose: boolean }
      | { kind: 'resync'; by: Replica }
      | { kind: 'let the feed run' };
    const by = fc.constantFrom<Replica>('a', 'b');
    const port = fc.integer({ min: 4001, max: 4003 });
    const step: fc.Arbitrary<Step> = fc.oneof(
      fc.record({ kind: fc.constant('add' as const), by, port, pair: fc.constantFrom('ft-in' as const, 'kg-g' as const) }),
      fc.record({ kind: fc.constant('remove' as const), by, port }),
      fc.record({ kind: fc.constant('hold' as const), by }),
      fc.record({ kind: fc.constant('release' as const), by, lose: fc.boolean() }),
      fc.record({ kind: fc.constant('resync' as const), by }),
      fc.constant({ kind: 'let the feed run' as const }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(step, { maxLength: 40 }), async (steps) => {
        const stores = { a: new MemorySharedRegistryStore(), b: undefined as unknown as MemorySharedRegistryStore };
        stores.b = stores.a.peer();
        const replicas = { a: await SharedRegistry.open({ store: stores.a }), b: await SharedRegistry.open({ store: stores.b }) };
        const holds: Partial<Record<Replica, { release(options?: { lose?: boolean }): void }>> = {};
        const writes: Promise<unknown>[] = [];
        try {
          for (const s of steps) {
            switch (s.kind) {
              case 'add':
                writes.push(replicas[s.by].add(s.pair === 'ft-in' ? FT_IN : KG_G, ep('127.0.0.1', s.port)).catch(() => undefined));
                break;
              case 'remove':
                writes.push(replicas[s.by].remove(ep('127.0.0.1', s.port)).catch(() => undefined));
                break;
              case 'hold':
                holds[s.by] ??= stores[s.by].holdAnswers();
                break;
              case 'release':
                holds[s.by]?.release({ lose: s.lose });
                delete holds[s.by];
                break;
              case 'resync':
                // As after a broken watch: reload and follow again, writes possibly in flight.
                await replicas[s.by].resync();
                break;
              case 'let the feed run':
                await new Promise((resolve) => setImmediate(resolve));
                break;
            }
          }
          for (const hold of Object.values(holds)) hold.release();
          await Promise.all(writes);
          const truth = await stored(stores.a);
          // Nothing is on a network here: once the writes are answered, the feed settles at once.
          await settled(() => same(held(replicas.a), truth) && same(held(replicas.b), truth), 200);
          expect(held(replicas.a)).toEqual(truth);
          expect(held(replicas.b)).toEqual(truth);
        } finally {
          replicas.a.close();
          replicas.b.close();
        }
      }),
      { numRuns: 500 },
    );
  }, 60_000);
});
