import { rmSync } from 'node:fs';
import { APP, startServer, stopAll, waitFor } from '@conv/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { type ProcessRow, type UpSystem, isAlive, isPortFree, killLeftovers, listRegistry, startUp } from './up-system';

let system: UpSystem | undefined;

afterEach(async () => {
  await stopAll();
  // A failed test must not leave the system's processes behind for the next one.
  killLeftovers(system);
  if (system) rmSync(system.dataDir, { recursive: true, force: true });
  system = undefined;
});

// Starting a system on a busy machine takes a while; each wait below has its own deadline.
const LIMIT = 180_000;

/** What a second discovery on the same file restores: how many, and LIST once its check is done. */
async function restoredFrom(dbPath: string): Promise<{ banner: string; listed: number | undefined }> {
  const discovery = await startServer(APP.discovery, ['0', '--db', dbPath], { timeoutMs: 60_000 });
  const listed = await listRegistry(discovery.port);
  await discovery.stop();
  return { banner: discovery.banner, listed: listed?.length };
}

const stillAlive = (rows: readonly ProcessRow[]) => rows.filter((row) => isAlive(row.pid)).map((row) => row.name);

describe('Ctrl-C stops the system in order: converters (which deregister), the proxy, discovery', () => {
  it('on SIGINT to conv up alone: exit 0, no process left, an empty registry', async () => {
    system = await startUp('ft:in,in:cm');
    const rows = system.processes();
    expect(rows).toHaveLength(4);
    expect(await system.conv.stop('SIGINT')).toBe(0);
    // conv up exits only after every child has: nothing may be left, without waiting.
    expect(stillAlive(rows)).toEqual([]);
    const restored = await restoredFrom(system.dbPath);
    expect(restored.banner).toMatch(/0 registrations restored/);
    expect(restored.listed).toBe(0);
  }, LIMIT);

  it("on SIGINT to conv up's whole process group, as a terminal's Ctrl-C: the same", async () => {
    system = await startUp('ft:in,in:cm', { detached: true });
    const rows = system.processes();
    const group = system.conv.child.pid ?? 0;
    expect(group).toBeGreaterThan(0);
    process.kill(-group, 'SIGINT');
    expect(await system.conv.exited).toBe(0);
    expect(stillAlive(rows)).toEqual([]);
    const restored = await restoredFrom(system.dbPath);
    expect(restored.banner).toMatch(/0 registrations restored/);
    expect(restored.listed).toBe(0);
  }, LIMIT);
});

describe('conv up killed', () => {
  it('on SIGKILL takes its children with it: none left, every port free', async () => {
    system = await startUp('ft:in,in:cm');
    const rows = system.processes();
    expect(await system.conv.stop('SIGKILL')).toBe('SIGKILL');
    const left = await waitFor(async () => {
      const alive = stillAlive(rows);
      const held = [];
      for (const row of rows) if (!(await isPortFree(row.port))) held.push(row.port);
      return alive.length === 0 && held.length === 0 ? { alive, held } : undefined;
    }, { what: 'every child of the killed conv up to exit and free its port', timeoutMs: 30_000, intervalMs: 100 });
    expect(left).toEqual({ alive: [], held: [] });
  }, LIMIT);
});
