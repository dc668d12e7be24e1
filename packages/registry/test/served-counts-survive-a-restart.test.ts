import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import {
  MemoryRegistryStore,
  MemorySharedRegistryStore,
  REGISTRY_SCHEMA_VERSION,
  Registry,
  SharedRegistry,
  type ServedCount,
  type StoredRegistration,
  unitPair,
} from '../src/index';
import { ep, sha256, useTempDir } from './helpers';

const tempDir = useTempDir();
const FT_IN = unitPair('ft', 'in');
const CM_IN = unitPair('cm', 'in');
/**
 * A registry file as schema version 1 (before served counts) left it: written by that code
 * (commit fc6b5c0) with four ADDs at a fixed clock, then closed. Tests copy it, never open it.
 */
const V1_FIXTURE = new URL('./fixtures/registry-v1.sqlite', import.meta.url).pathname;

function servedOf(registry: Registry): Record<string, number> {
  return Object.fromEntries(registry.registrations().map((r) => [`${r.endpoint.host}:${r.endpoint.port}`, r.served]));
}

function upRegistry(file: string): Registry {
  const registry = Registry.open({ path: file });
  for (const r of registry.registrations()) registry.recordProbe(r.endpoint, true);
  return registry;
}

describe('served counts across a restart', () => {
  it('upgrades a version 1 file in place: every registration kept, in order, each served 0 so far', () => {
    const fixtureHash = sha256(V1_FIXTURE);
    const file = join(tempDir(), 'registry.sqlite');
    copyFileSync(V1_FIXTURE, file);
    const before = new Database(file, { readonly: true });
    expect(before.pragma('user_version', { simple: true })).toBe(1);
    before.close();

    const registry = Registry.open({ path: file });
    expect(registry.registrations().map((r) => [r.pair, `${r.endpoint.host}:${r.endpoint.port}`, r.addedAt, r.served])).toEqual([
      [FT_IN, '127.0.0.1:6001', 1_700_000_000_001, 0],
      [FT_IN, '127.0.0.1:6002', 1_700_000_000_002, 0],
      [CM_IN, '127.0.0.1:6003', 1_700_000_000_003, 0],
      [unitPair('$', 'oz'), '::1:6013', 1_700_000_000_004, 0],
    ]);
    registry.close();

    const after = new Database(file, { readonly: true });
    expect(after.pragma('user_version', { simple: true })).toBe(REGISTRY_SCHEMA_VERSION);
    expect(REGISTRY_SCHEMA_VERSION).toBe(3);
    expect(after.prepare('SELECT seq, served, lease_ms FROM registration ORDER BY seq').all()).toEqual([1, 2, 3, 4].map((seq) => ({ seq, served: 0, lease_ms: null })));
    expect(after.pragma('integrity_check', { simple: true })).toBe('ok');
    after.close();
    expect(sha256(V1_FIXTURE)).toBe(fixtureHash);
  });

  it('keeps what was counted when the registry is closed and opened again, with no flush before close', () => {
    const file = join(tempDir(), 'registry.sqlite');
    copyFileSync(V1_FIXTURE, file);
    const first = upRegistry(file);
    for (let i = 0; i < 5; i++) first.next(FT_IN);
    first.next(CM_IN);
    const counted = servedOf(first);
    expect(counted).toEqual({ '127.0.0.1:6001': 3, '127.0.0.1:6002': 2, '127.0.0.1:6003': 1, '::1:6013': 0 });
    first.close();

    // Restored endpoints are pending again (nothing is served before a probe), but keep their counts.
    const second = Registry.open({ path: file });
    expect(servedOf(second)).toEqual(counted);
    expect(second.find(ep('127.0.0.1', 6001))).toMatchObject({ health: 'pending', served: 3 });
    for (const r of second.registrations()) second.recordProbe(r.endpoint, true);
    second.next(FT_IN);
    second.close();

    const third = Registry.open({ path: file });
    expect(servedOf(third)).toEqual({ ...counted, '127.0.0.1:6001': 4 });
    third.close();
  });

  it('flushes only the counts that changed, one write per flush, never from next()', () => {
    const saved: ServedCount[][] = [];
    // A store of the caller's own: the registry talks to it only through RegistryStore.
    const inner = new MemoryRegistryStore();
    const store = {
      load: (): StoredRegistration[] => inner.load(),
      put: (registration: StoredRegistration) => inner.put(registration),
      delete: (endpoints: Parameters<MemoryRegistryStore['delete']>[0]) => inner.delete(endpoints),
      saveServed: (counts: readonly ServedCount[]) => {
        saved.push([...counts]);
        inner.saveServed(counts);
      },
      close: () => inner.close(),
    };
    const registry = Registry.open({ store });
    for (const port of [1, 2, 3]) registry.add(FT_IN, ep('127.0.0.1', port), { health: 'up' });
    for (let i = 0; i < 10_000; i++) registry.next(FT_IN);
    expect(saved).toEqual([]);

    expect(registry.flushServed()).toBe(3);
    expect(registry.flushServed()).toBe(0);
    registry.next(FT_IN);
    expect(registry.flushServed()).toBe(1);
    expect(saved).toEqual([
      [{ seq: 1, served: 3334 }, { seq: 2, served: 3333 }, { seq: 3, served: 3333 }],
      [{ seq: 2, served: 3334 }],
    ]);
    registry.close();
    expect(saved).toHaveLength(2);
  });

  it('starts a re-registered endpoint from 0: a count belongs to one registration', () => {
    const file = join(tempDir(), 'registry.sqlite');
    const first = Registry.open({ path: file });
    first.add(FT_IN, ep('127.0.0.1', 1), { health: 'up' });
    first.next(FT_IN);
    first.next(FT_IN);
    expect(first.flushServed()).toBe(1);
    first.remove(ep('127.0.0.1', 1));
    first.add(FT_IN, ep('127.0.0.1', 1), { health: 'up' });
    first.close();
    const second = Registry.open({ path: file });
    expect(second.find(ep('127.0.0.1', 1))?.served).toBe(0);
    second.close();
  });

  it('keeps counts in memory only for a shared registry: one replica does not write them for all', async () => {
    const store = new MemorySharedRegistryStore();
    const registry = await SharedRegistry.open({ store });
    await registry.add(FT_IN, ep('127.0.0.1', 1), { health: 'up' });
    registry.next(FT_IN);
    expect(registry.flushServed()).toBe(0);
    expect(registry.find(ep('127.0.0.1', 1))?.served).toBe(1);
    registry.close();
  });
});
