import { rmSync } from 'node:fs';
import { LineClient, exchange, stopAll, waitFor } from '@conv/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type UpSystem, isAlive, killLeftovers, listRegistry, startUp } from './up-system';

// One converter for each of two pairs (a two-hop question), the proxy and discovery.
let system: UpSystem;

beforeAll(async () => {
  system = await startUp('ft:in,in:cm');
}, 150_000);

afterAll(async () => {
  await stopAll();
  killLeftovers(system);
  rmSync(system.dataDir, { recursive: true, force: true });
});

/** The row of `name` once it is a process other than `pid` (restarted), from processes.json. */
const restarted = (name: string, pid: number) =>
  waitFor(() => system.processes().find((p) => p.name === name && p.pid !== pid && isAlive(p.pid)), {
    what: `${name} to be restarted`,
    timeoutMs: 60_000,
  });

/** Polls LIST until `port` is registered and up; returns its row. */
const upInRegistry = (discoveryPort: number, port: number) =>
  waitFor(async () => (await listRegistry(discoveryPort))?.find((r) => r.endpoint.port === port && r.health === 'up'), {
    what: `port ${port} registered and up in discovery`,
    timeoutMs: 60_000,
    intervalMs: 100,
  });

// Each wait has its own deadline; this only catches a hang, even on a busy machine.
const LIMIT = 120_000;

describe('conv up restarts what dies', () => {
  it('restarts a killed converter on its port, and it registers again', async () => {
    const discovery = system.process('discovery');
    const victim = system.process('converter ft:in #1');
    process.kill(victim.pid, 'SIGKILL');
    // Discovery forgets it (a REMOVE from its own host is obeyed): only the new process can
    // put it back, by registering on start.
    const client = await LineClient.connect(discovery.port);
    const removed = await client.request(`REMOVE 127.0.0.1 ${victim.port}`);
    client.close();
    expect(removed).toEqual(['SUCCESS']);

    const again = await restarted('converter ft:in #1', victim.pid);
    expect(again.port).toBe(victim.port);
    const row = await upInRegistry(discovery.port, victim.port);
    expect(row.units.slice().sort()).toEqual(['ft', 'in']);
  }, LIMIT);

  it('restarts a killed discovery on its port and file, which knows the converters again', async () => {
    const victim = system.process('discovery');
    const converterPorts = system.processes().filter((p) => p.name.startsWith('converter')).map((p) => p.port);
    process.kill(victim.pid, 'SIGKILL');
    const again = await restarted('discovery', victim.pid);
    expect(again.port).toBe(victim.port);
    for (const port of converterPorts) await upInRegistry(again.port, port);
  }, LIMIT);

  it('restarts a killed proxy on its port, which answers through two converters', async () => {
    const victim = system.process('proxy');
    process.kill(victim.pid, 'SIGKILL');
    const again = await restarted('proxy', victim.pid);
    expect(again.port).toBe(victim.port);
    // Answered once discovery has both hops up (it may still be probing after the last test).
    const answer = await waitFor(
      async () => {
        const [, reply] = await exchange(again.port, 'ft cm 1');
        return reply === '30.48' ? reply : undefined;
      },
      { what: 'the restarted proxy to answer ft cm 1', timeoutMs: 30_000, intervalMs: 100 },
    );
    expect(answer).toBe('30.48');
  }, LIMIT);
});
