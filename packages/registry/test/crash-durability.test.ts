import { randomInt } from 'node:crypto';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { Registry } from '../src/index';
import { until, useChildren } from './child-process';
import { stateAfter } from './fixtures/crash-ops';
import { useTempDir } from './helpers';

const tempDir = useTempDir();
const spawnChild = useChildren();

const listing = (registry: Registry): string[] =>
  registry.registrations().map((r) => `${r.pair.join('-')} ${r.endpoint.host}:${r.endpoint.port}`);

describe('a registry process killed with SIGKILL at a random moment', () => {
  it('loses no acknowledged add or remove, and leaves the file intact, round after round', async () => {
    const file = join(tempDir(), 'registry.sqlite');
    let committed = 0;
    for (let round = 0; round < 3; round++) {
      const child = spawnChild('crash-child.ts', [file, String(committed)]);
      const acks = (): number => child.lines.filter((line) => line.startsWith('ack ')).length;
      const target = randomInt(50, 1500);
      await until(() => acks() >= target || child.process.exitCode !== null, `${target} acks (stderr: ${child.stderr()})`);
      child.process.kill('SIGKILL');
      const { signal } = await child.exited;
      expect(signal, child.stderr()).toBe('SIGKILL');

      // Every line the child wrote before dying is now read. Op i is acknowledged only after
      // add/remove returned, so at most the one op in flight can be committed but unacknowledged.
      const acked = child.lines.filter((line) => line.startsWith('ack ')).map((line) => Number(line.slice(4)));
      expect(acked).toEqual(Array.from({ length: acked.length }, (_, i) => committed + i));
      const ackedCount = committed + acked.length;

      const db = new Database(file);
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      db.close();

      const registry = Registry.open({ path: file });
      const restored = listing(registry);
      registry.close();
      const candidates = [ackedCount, ackedCount + 1];
      const match = candidates.find((count) => JSON.stringify(stateAfter(count)) === JSON.stringify(restored));
      if (match === undefined) expect(restored).toEqual(stateAfter(ackedCount)); // fails, showing the difference
      committed = match!;
    }
    expect(committed).toBeGreaterThan(150);
  }, 60_000);
});
