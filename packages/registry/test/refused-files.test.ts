import { existsSync, writeFileSync, openSync, writeSync, closeSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { Registry, RegistryError, unitPair, type RegistryErrorCode } from '../src/index';
import { until, useChildren } from './child-process';
import { ep, sha256, useTempDir } from './helpers';

const tempDir = useTempDir();
const spawnChild = useChildren();
const FT_IN = unitPair('ft', 'in');

function registryFile(endpoints = 10): string {
  const file = join(tempDir(), 'registry.sqlite');
  const registry = Registry.open({ path: file });
  for (let i = 0; i < endpoints; i++) registry.add(FT_IN, ep(`127.0.${i >> 8}.${i & 255}`, 4000 + (i % 1000)));
  registry.close();
  return file;
}

/** Opening `file` fails with `code`, and the file is byte-for-byte what it was. */
function expectRefused(file: string, code: RegistryErrorCode): RegistryError {
  const before = sha256(file);
  let caught: unknown;
  try {
    Registry.open({ path: file }).close();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(RegistryError);
  expect((caught as RegistryError).code).toBe(code);
  expect(sha256(file)).toBe(before);
  return caught as RegistryError;
}

describe('files the registry refuses, and never overwrites', () => {
  it('refuses a file that is not a database with CORRUPT', () => {
    const file = join(tempDir(), 'notes.txt');
    writeFileSync(file, 'add ft in 127.0.0.1 4000\n'.repeat(200));
    const error = expectRefused(file, 'CORRUPT');
    expect(error.message.replace(file, '<file>')).toMatchInlineSnapshot(`"Registry file "<file>" is not a readable database: file is not a database."`);
    expect(existsSync(`${file}-wal`)).toBe(false);
  });

  it('refuses a registry file with a damaged page with CORRUPT', () => {
    const file = registryFile(3000);
    const pageSize = 4096;
    expect(statSync(file).size).toBeGreaterThan(pageSize * 8);
    const fd = openSync(file, 'r+');
    writeSync(fd, Buffer.alloc(pageSize, 0x5a), 0, pageSize, pageSize * 4);
    closeSync(fd);
    expectRefused(file, 'CORRUPT');
  });

  it('refuses an SQLite file of another application with FOREIGN_FILE', () => {
    const file = join(tempDir(), 'other.sqlite');
    const db = new Database(file);
    db.exec('CREATE TABLE registration (seq INTEGER PRIMARY KEY, whatever TEXT)');
    db.close();
    expectRefused(file, 'FOREIGN_FILE');

    const tagged = join(tempDir(), 'tagged.sqlite');
    const other = new Database(tagged);
    other.pragma('application_id = 42');
    other.close();
    expectRefused(tagged, 'FOREIGN_FILE');
  });

  it('refuses a file from a newer schema version with NEWER_VERSION', () => {
    const file = registryFile();
    const db = new Database(file);
    db.pragma('user_version = 99');
    db.close();
    const error = expectRefused(file, 'NEWER_VERSION');
    expect(error.message.replace(file, '<file>')).toMatchInlineSnapshot(`"Registry file "<file>" has schema version 99; this code knows up to 3. Upgrade @conv/registry to open it."`);
  });

  it('refuses a file held open by a live registry in another process with LOCKED', async () => {
    const file = registryFile();
    const child = spawnChild('hold-open-child.ts', [file]);
    await until(() => child.lines.includes('holding') || child.process.exitCode !== null, `the child to hold the file (stderr: ${child.stderr()})`);
    expect(child.lines).toContain('holding');
    const error = expectRefused(file, 'LOCKED');
    expect(error.message.replace(file, '<file>')).toMatchInlineSnapshot(`"Registry file "<file>" is held by another live registry; refusing to share it."`);

    child.process.kill('SIGKILL');
    await child.exited;
    // The lock dies with its holder: the file opens again, intact.
    const registry = Registry.open({ path: file });
    expect(registry.counts().endpoints).toBe(10);
    registry.close();
  });

  it('refuses a second registry on the same file in the same process with LOCKED', () => {
    const file = registryFile();
    const first = Registry.open({ path: file });
    try {
      expect(() => Registry.open({ path: file })).toThrow(expect.objectContaining({ code: 'LOCKED' }));
      first.add(FT_IN, ep('127.0.0.1', 9999));
    } finally {
      first.close();
    }
    const again = Registry.open({ path: file });
    expect(again.counts().endpoints).toBe(11);
    again.close();
  });
  // Rows another program (or a hand edit) wrote: each breaks a rule `add` keeps, so reading it
  // as an endpoint would hand out something no one registered.
  it.each([
    ['a pair written unsorted', { unit_a: 'in', unit_b: 'ft' }],
    ['a unit with a space', { unit_a: 'f t', unit_b: 'in' }],
    ['a unit longer than the protocol allows', { unit_a: 'x'.repeat(33), unit_b: 'y' }],
    ['a host not in canonical spelling', { host: 'LocalHost' }],
    ['a host that is no host', { host: 'not a host' }],
    ['a negative served count', { served: -1 }],
  ])('refuses a registry file holding %s with CORRUPT, naming the row', (_what, row) => {
    const file = registryFile(3);
    const db = new Database(file);
    db.prepare('INSERT INTO registration (seq, unit_a, unit_b, host, port, added_at, served) VALUES (@seq, @unit_a, @unit_b, @host, @port, @added_at, @served)').run({
      seq: 99, unit_a: 'ft', unit_b: 'in', host: '127.0.9.9', port: 4999, added_at: 1_700_000_000_000, served: 0, ...row,
    });
    db.close();
    const error = expectRefused(file, 'CORRUPT');
    expect(error.message).toContain('holds a row the registry never writes');
    expect(error.message).toContain('4999');
  });
});
