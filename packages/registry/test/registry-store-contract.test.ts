import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryRegistryStore, SqliteRegistryStore, unitPair, type RegistryStore, type StoredRegistration } from '../src/index';
import { ep, useTempDir } from './helpers';

// One suite, every store: what the registry relies on, written once.
type Subject = {
  name: string;
  open: () => RegistryStore;
  /** Opens the same storage again after close(), when the store persists at all. */
  reopen?: () => RegistryStore;
};

const tempDir = useTempDir();
let file = '';
const subjects: Subject[] = [
  { name: 'MemoryRegistryStore', open: () => new MemoryRegistryStore() },
  { name: 'SqliteRegistryStore (:memory:)', open: () => SqliteRegistryStore.open(':memory:') },
  {
    name: 'SqliteRegistryStore (file)',
    open: () => SqliteRegistryStore.open((file = join(tempDir(), 'store.sqlite'))),
    reopen: () => SqliteRegistryStore.open(file),
  },
];

const FT_IN = unitPair('ft', 'in');
const KG_G = unitPair('kg', 'g');
const record = (seq: number, port: number, pair = FT_IN): StoredRegistration => ({
  seq,
  pair,
  endpoint: ep('127.0.0.1', port),
  addedAt: 1_000 + seq,
  served: 0,
});

describe.each(subjects)('$name', (subject) => {
  const stores: RegistryStore[] = [];
  const open = (): RegistryStore => {
    const store = subject.open();
    stores.push(store);
    return store;
  };
  afterEach(() => {
    for (const store of stores.splice(0)) store.close();
  });

  it('starts empty', () => {
    expect(open().load()).toEqual([]);
  });

  it('loads what was put, in seq order', () => {
    const store = open();
    store.put(record(3, 4003, KG_G));
    store.put(record(1, 4001));
    store.put(record(2, 4002));
    expect(store.load()).toEqual([record(1, 4001), record(2, 4002), record(3, 4003, KG_G)]);
  });

  it('replaces the registration of an endpoint put again', () => {
    const store = open();
    store.put(record(1, 4001));
    store.put(record(5, 4001, KG_G));
    expect(store.load()).toEqual([record(5, 4001, KG_G)]);
  });

  it('refuses a seq already used by another endpoint, keeping both as they were', () => {
    const store = open();
    store.put(record(1, 4001));
    expect(() => store.put(record(1, 4002))).toThrow(expect.objectContaining({ code: 'STORE_FAILED' }));
    expect(store.load()).toEqual([record(1, 4001)]);
  });

  it('deletes several endpoints at once and ignores unknown ones', () => {
    const store = open();
    for (let i = 1; i <= 4; i++) store.put(record(i, 4000 + i));
    store.delete([ep('127.0.0.1', 4001), ep('127.0.0.1', 4003), ep('127.0.0.1', 9999)]);
    store.delete([]);
    expect(store.load().map((r) => r.seq)).toEqual([2, 4]);
  });

  it('records served counts in one step, ignoring seqs no longer stored, and a put starts again from its own', () => {
    const store = open();
    for (let i = 1; i <= 3; i++) store.put(record(i, 4000 + i));
    store.delete([ep('127.0.0.1', 4003)]);
    store.saveServed?.([{ seq: 1, served: 7 }, { seq: 3, served: 9 }, { seq: 42, served: 1 }]);
    store.saveServed?.([{ seq: 2, served: 5 }]);
    store.saveServed?.([]);
    expect(store.load().map((r) => [r.seq, r.served])).toEqual([[1, 7], [2, 5]]);
    // The same endpoint registered again (after a removal) is a new registration: its count is its own.
    store.put(record(4, 4001));
    expect(store.load().map((r) => [r.seq, r.served])).toEqual([[2, 5], [4, 0]]);
  });

  it('throws CLOSED after close(), which is idempotent', () => {
    const store = subject.open();
    store.close();
    store.close();
    expect(() => store.load()).toThrow(expect.objectContaining({ code: 'CLOSED' }));
    expect(() => store.put(record(1, 4001))).toThrow(expect.objectContaining({ code: 'CLOSED' }));
    expect(() => store.saveServed?.([])).toThrow(expect.objectContaining({ code: 'CLOSED' }));
  });

});

describe.each(subjects.filter((s) => s.reopen !== undefined))('$name, persistent', (subject) => {
  it('keeps every put and delete across close and reopen', () => {
    const store = subject.open();
    for (let i = 1; i <= 5; i++) store.put(record(i, 4000 + i, i % 2 === 0 ? KG_G : FT_IN));
    store.delete([ep('127.0.0.1', 4002)]);
    store.saveServed?.([{ seq: 4, served: 12 }]);
    const expected = store.load();
    expect(expected.find((r) => r.seq === 4)?.served).toBe(12);
    store.close();
    const reopened = subject.reopen!();
    try {
      expect(reopened.load()).toEqual(expected);
      expect(expected.map((r) => r.seq)).toEqual([1, 3, 4, 5]);
    } finally {
      reopened.close();
    }
  });
});
