import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { REGISTRY_APPLICATION_ID, REGISTRY_SCHEMA_VERSION, Registry, unitPair } from '../src/index';
import { ep, manualClock, useTempDir } from './helpers';

const tempDir = useTempDir();
const FT_IN = unitPair('ft', 'in');
const KG_G = unitPair('kg', 'g');
const LBS_OZ = unitPair('lbs', 'oz');

describe('a registry file across close and reopen', () => {
  it('restores every pool and its order exactly, removals included', () => {
    const file = join(tempDir(), 'registry.sqlite');
    const first = Registry.open({ path: file });
    const pairs = [FT_IN, KG_G, LBS_OZ];
    for (let i = 0; i < 30; i++) first.add(pairs[(i * 7) % 3]!, ep(`127.0.0.${1 + (i % 4)}`, 5000 + i));
    for (const port of [5000, 5013, 5029, 5006]) first.remove(ep(`127.0.0.${1 + ((port - 5000) % 4)}`, port));
    const before = first.registrations().map((r) => [r.pair, r.endpoint, r.addedAt]);
    const counts = first.counts();
    first.close();

    const second = Registry.open({ path: file });
    expect(second.registrations().map((r) => [r.pair, r.endpoint, r.addedAt])).toEqual(before);
    expect(second.counts()).toEqual({ ...counts, pending: counts.endpoints });
    second.close();
  });

  it('makes a new file with 1 KB pages, and keeps the page size of a file made with another', () => {
    const fresh = join(tempDir(), 'fresh.sqlite');
    Registry.open({ path: fresh }).close();
    const older = join(tempDir(), 'older.sqlite');
    const made = new Database(older);
    made.pragma('page_size = 4096');
    made.exec('VACUUM');
    made.close();
    const registry = Registry.open({ path: older });
    registry.add(FT_IN, ep('127.0.0.1', 4000));
    registry.close();
    const pageSize = (file: string): unknown => {
      const db = new Database(file, { readonly: true });
      try {
        return db.pragma('page_size', { simple: true });
      } finally {
        db.close();
      }
    };
    expect(pageSize(fresh)).toBe(1024);
    expect(pageSize(older)).toBe(4096);
    const reopened = Registry.open({ path: older });
    expect(reopened.registrations().map((r) => r.endpoint)).toEqual([{ host: '127.0.0.1', port: 4000 }]);
    reopened.close();
  });

  it('restores everything pending: nothing is served before a probe says it is up', () => {
    const file = join(tempDir(), 'registry.sqlite');
    const first = Registry.open({ path: file });
    first.add(FT_IN, ep('127.0.0.1', 1), { health: 'up' });
    first.add(FT_IN, ep('127.0.0.1', 2), { health: 'up' });
    expect(first.next(FT_IN)?.port).toBe(1);
    first.close();

    const clock = manualClock(5_000_000);
    const second = Registry.open({ path: file, now: clock.now });
    expect(second.next(FT_IN)).toBeUndefined();
    expect(second.pairs()).toEqual([]);
    expect(second.find(ep('127.0.0.1', 2))).toMatchObject({ health: 'pending', healthSince: 5_000_000, served: 0 });
    second.recordProbe(ep('127.0.0.1', 2), true);
    second.recordProbe(ep('127.0.0.1', 1), true);
    // The cursor is not persisted: rotation starts again at the first endpoint of the pool.
    expect([second.next(FT_IN)?.port, second.next(FT_IN)?.port]).toEqual([1, 2]);
    second.close();
  });

  it('keeps appending after the restored endpoints, and lastSeen refreshes are not written', () => {
    const file = join(tempDir(), 'registry.sqlite');
    const clock = manualClock();
    const first = Registry.open({ path: file, now: clock.now });
    first.add(FT_IN, ep('127.0.0.1', 1));
    clock.advance(1_000);
    first.add(FT_IN, ep('127.0.0.1', 1));
    first.close();

    const second = Registry.open({ path: file, now: clock.now });
    expect(second.find(ep('127.0.0.1', 1))).toMatchObject({ addedAt: 1_000_000, lastSeen: 1_000_000 });
    second.add(FT_IN, ep('127.0.0.1', 2));
    second.remove(ep('127.0.0.1', 1));
    second.add(FT_IN, ep('127.0.0.1', 1));
    second.close();

    const third = Registry.open({ path: file });
    expect(third.registrations().map((r) => r.endpoint.port)).toEqual([2, 1]);
    third.close();
  });

  it('writes a WAL-mode file marked with the application id and schema version', () => {
    const file = join(tempDir(), 'registry.sqlite');
    Registry.open({ path: file }).close();
    const db = new Database(file, { readonly: true });
    try {
      expect(db.pragma('application_id', { simple: true })).toBe(REGISTRY_APPLICATION_ID);
      expect(db.pragma('user_version', { simple: true })).toBe(REGISTRY_SCHEMA_VERSION);
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    } finally {
      db.close();
    }
  });

  it('creates the file when missing, and refuses a path in a missing directory with OPEN_FAILED', () => {
    const dir = tempDir();
    expect(() => Registry.open({ path: join(dir, 'no', 'such', 'dir', 'r.sqlite') })).toThrow(expect.objectContaining({ code: 'OPEN_FAILED' }));
    const path = join(dir, 'new.sqlite');
    expect(existsSync(path)).toBe(false);
    const created = Registry.open({ path });
    created.close();
    expect(existsSync(path)).toBe(true);
    // A registry, not just a file: it opens again as one.
    expect(() => Registry.open({ path }).close()).not.toThrow();
  });
});
