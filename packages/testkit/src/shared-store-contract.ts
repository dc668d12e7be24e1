import { afterEach, describe, expect, it } from 'vitest';
import { type SharedChange, type SharedRegistryStore, type SharedSubscription, endpointOf, unitPair } from '@conv/registry';

/**
 * What `SharedRegistry` relies on from any SharedRegistryStore, written once and run on every
 * implementation (testkit's own tests run it on the memory store; apps/discovery runs it on etcd).
 * `open(namespace)` returns two handles on the same fresh storage, as two replicas have.
 */
export type SharedStoreSubject = {
  name: string;
  open: (namespace: string) => Promise<{ a: SharedRegistryStore; b: SharedRegistryStore }>;
  /** Forgets the store's history before `revision` (etcd: compaction). */
  compact: (store: SharedRegistryStore, revision: number) => Promise<void>;
};

const FT_IN = unitPair('ft', 'in');
const KG_G = unitPair('kg', 'g');
const at = (port: number) => endpointOf('127.0.0.1', port);

/** Polls until `probe` returns true; no fixed sleeps. */
async function until(probe: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export function describeSharedStoreContract(subject: SharedStoreSubject): void {
  // A network store on a busy machine: generous per-test deadlines (nothing here sleeps).
  describe(`${subject.name} (shared-store contract)`, { timeout: 20_000 }, () => {
    const opened: SharedRegistryStore[] = [];
    const subscriptions: SharedSubscription[] = [];
    let counter = 0;
    const open = async () => {
      const pair = await subject.open(`t${++counter}-${Date.now()}`);
      opened.push(pair.a, pair.b);
      return pair;
    };
    const follow = async (store: SharedRegistryStore, from: number) => {
      const seen: SharedChange[] = [];
      const broken: Error[] = [];
      subscriptions.push(await store.watch(from, { change: (c) => seen.push(c), broken: (e) => broken.push(e) }));
      return { seen, broken };
    };
    afterEach(async () => {
      for (const subscription of subscriptions.splice(0)) await subscription.close();
      for (const store of opened.splice(0)) await store.close();
    });

    it('starts empty, at some revision', async () => {
      const { a } = await open();
      const snapshot = await a.load();
      expect(snapshot.records).toEqual([]);
      expect(Number.isInteger(snapshot.revision)).toBe(true);
    });

    it('creates a registration once committed, visible to the other handle, in creation order', async () => {
      const { a, b } = await open();
      const first = await a.put({ pair: KG_G, endpoint: at(4002), addedAt: 5 });
      const second = await b.put({ pair: FT_IN, endpoint: at(4001), addedAt: 6 });
      expect(first.outcome).toBe('created');
      expect(second.outcome).toBe('created');
      expect(second.record.order).toBeGreaterThan(first.record.order);
      const snapshot = await b.load();
      expect(snapshot.records.map((r) => [r.endpoint.port, r.pair, r.addedAt])).toEqual([
        [4002, KG_G, 5],
        [4001, FT_IN, 6],
      ]);
      expect(snapshot.records[0]).toEqual(first.record);
      expect(snapshot.revision).toBeGreaterThanOrEqual(second.record.revision);
    });

    it('refreshes an endpoint put again for the same pair, and refuses it for another pair', async () => {
      const { a, b } = await open();
      const created = await a.put({ pair: FT_IN, endpoint: at(4001), addedAt: 1 });
      const again = await b.put({ pair: FT_IN, endpoint: at(4001), addedAt: 2 });
      expect(again.outcome).toBe('refreshed');
      expect(again.record.order).toBe(created.record.order);
      const other = await b.put({ pair: KG_G, endpoint: at(4001), addedAt: 3 });
      expect(other.outcome).toBe('conflict');
      expect(other.record.pair).toEqual(FT_IN);
      expect((await a.load()).records.map((r) => r.pair)).toEqual([FT_IN]);
    });

    it('deletes once committed; deleting what is not there reports it', async () => {
      const { a, b } = await open();
      const created = await a.put({ pair: FT_IN, endpoint: at(4001), addedAt: 1 });
      const deleted = await b.delete(at(4001));
      expect(deleted.deleted).toBe(true);
      expect(deleted.revision).toBeGreaterThan(created.record.revision);
      expect((await a.load()).records).toEqual([]);
      expect((await a.delete(at(4001))).deleted).toBe(false);
      // Created again, it is a new registration, at the end of the order.
      const recreated = await a.put({ pair: FT_IN, endpoint: at(4001), addedAt: 2 });
      expect(recreated.outcome).toBe('created');
      expect(recreated.record.order).toBeGreaterThan(created.record.order);
    });

    it('delivers changes made through another handle, from a revision on, in order', async () => {
      const { a, b } = await open();
      const start = (await a.load()).revision;
      const early = await b.put({ pair: FT_IN, endpoint: at(4001), addedAt: 1 });
      // Subscribing after the change, from an earlier revision, still delivers it.
      const watch = await follow(a, start + 1);
      const late = await b.put({ pair: KG_G, endpoint: at(4002), addedAt: 2 });
      const gone = await b.delete(at(4001));
      await until(() => watch.seen.length >= 3, 'three changes');
      expect(watch.seen).toEqual([
        { kind: 'put', record: early.record },
        { kind: 'put', record: late.record },
        { kind: 'delete', endpoint: at(4001), revision: gone.revision },
      ]);
      expect(watch.broken).toEqual([]);
    });

    it('delivers a handle its own changes too, so echoes must be recognised by revision', async () => {
      const { a } = await open();
      const watch = await follow(a, (await a.load()).revision + 1);
      const created = await a.put({ pair: FT_IN, endpoint: at(4003), addedAt: 1 });
      await until(() => watch.seen.length >= 1, 'the echo');
      expect(watch.seen[0]).toEqual({ kind: 'put', record: created.record });
    });

    it('reports a watch from a compacted revision as broken and delivers nothing from it (the reader must reload)', async () => {
      const { a, b } = await open();
      const start = (await a.load()).revision;
      await b.put({ pair: FT_IN, endpoint: at(4001), addedAt: 1 });
      const latest = await b.put({ pair: KG_G, endpoint: at(4002), addedAt: 2 });
      await subject.compact(a, latest.record.revision);
      let refused: unknown;
      const watch = await follow(a, start + 1).catch((error: unknown) => {
        refused = error;
        return undefined;
      });
      if (watch !== undefined) await until(() => watch.broken.length === 1, 'the watch reported broken');
      expect(refused !== undefined || watch?.broken.length === 1).toBe(true);
      expect(watch?.seen ?? []).toEqual([]);
      // From the compacted revision on, it follows again.
      const again = await follow(a, latest.record.revision + 1);
      const gone = await b.delete(at(4001));
      await until(() => again.seen.length >= 1, 'the delete after the compaction');
      expect(again.seen).toEqual([{ kind: 'delete', endpoint: at(4001), revision: gone.revision }]);
    });

    it('refuses calls after close, which is idempotent', async () => {
      const { a } = await open();
      await a.close();
      await a.close();
      await expect(a.load()).rejects.toThrow();
      await expect(a.put({ pair: FT_IN, endpoint: at(4001), addedAt: 1 })).rejects.toThrow();
    });
  });
}
