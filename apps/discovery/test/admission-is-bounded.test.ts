import { type Server, type Socket, createServer } from 'node:net';
import { type FakeConverter, startFakeConverter, stopAll, waitFor } from '@conv/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { ask, askOnce, list, openSession, startDiscovery } from './helpers';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
  await stopAll();
});

async function converter(units: [string, string]): Promise<FakeConverter> {
  const c = await startFakeConverter({ units });
  closers.push(() => c.close());
  return c;
}

/** Accepts connections and never answers: each probe of it lasts the whole check timeout. */
async function blackHole(): Promise<number> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(
    () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  );
  const address = server.address();
  return typeof address === 'object' && address ? address.port : 0;
}

const TOO_MANY = /^FAILURE too many pending\. .*\(TOO_MANY_PENDING\)$/;

describe('pending registrations are capped', () => {
  it('per source address and in all; a pending entry that never passes goes after its grace and frees its place', async () => {
    const discovery = await startDiscovery(['--db', ':memory:', '--check-interval', '100ms', '--check-timeout', '300ms', '--pending-grace', '1s', '--max-pending-per-source', '3', '--max-pending', '5']);
    const flooder = await openSession(discovery.port, { localAddress: '127.0.0.2' });
    // Nothing listens on these: they stay pending.
    for (const port of [1, 2, 3]) expect(await ask(flooder, `ADD ft in 127.0.0.9 ${port}`)).toEqual(['SUCCESS']);
    expect(await ask(flooder, 'ADD ft in 127.0.0.9 4')).toEqual([expect.stringMatching(TOO_MANY)]);
    // Another source still gets in, up to the total.
    const other = await openSession(discovery.port, { localAddress: '127.0.0.3' });
    for (const port of [11, 12]) expect(await ask(other, `ADD kg g 127.0.0.9 ${port}`)).toEqual(['SUCCESS']);
    expect(await ask(other, 'ADD kg g 127.0.0.9 13')).toEqual([expect.stringMatching(TOO_MANY)]);
    // A re-ADD of what is already registered is no new entry.
    expect(await ask(flooder, 'ADD ft in 127.0.0.9 1')).toEqual(['SUCCESS']);
    expect(await list(discovery.port)).toHaveLength(5);
    // Past the pending grace they are swept, and their places are free again.
    await waitFor(async () => (await list(discovery.port)).length === 0, { what: 'the pending entries swept' });
    expect(await ask(flooder, 'ADD ft in 127.0.0.9 4')).toEqual(['SUCCESS']);
    flooder.close();
    other.close();
  });
});

describe('admission probes are rate-limited fairly', () => {
  it("a flood of ADDs from one source delays neither another source's admission nor routine probes", async () => {
    const discovery = await startDiscovery(['--db', ':memory:', '--check-interval', '100ms', '--check-timeout', '1s', '--check-concurrency', '4']);
    const steady = await converter(['ft', 'in']);
    await askOnce(discovery.port, `ADD ft in 127.0.0.1 ${steady.port}`);
    await waitFor(async () => (await list(discovery.port)).some((line) => line.startsWith(`ft in 127.0.0.1 ${steady.port} up`)), { what: 'the steady one up' });

    // 200 registrations that each hold a probe for the whole second of its timeout.
    const holes = await Promise.all(Array.from({ length: 200 }, () => blackHole()));
    const flooder = await openSession(discovery.port, { localAddress: '127.0.0.2' });
    for (const hole of holes) expect(await ask(flooder, `ADD kg g 127.0.0.1 ${hole}`)).toEqual(['SUCCESS']);
    flooder.close();

    const probesBefore = steady.requests.length;
    const newcomer = await converter(['lbs', 'oz']);
    const t0 = performance.now();
    expect(await askOnce(discovery.port, `ADD lbs oz 127.0.0.1 ${newcomer.port}`, { localAddress: '127.0.0.3' })).toEqual(['SUCCESS']);
    // Unfair, it would wait for 200 one-second probes four at a time: 50 s. Fair, it is up within
    // a probe or two; 20 s leaves a loaded machine (two burners, another test file) room and still
    // tells the two apart.
    await waitFor(async () => (await askOnce(discovery.port, 'LOOKUP lbs oz'))[0] === `127.0.0.1 ${newcomer.port}`, {
      what: "the other source's registration admitted",
      timeoutMs: 20_000,
    });
    const admittedAfter = performance.now() - t0;
    await waitFor(() => steady.requests.length - probesBefore >= 5, { what: 'routine probes of the steady one during the flood', timeoutMs: 20_000 });
    console.log(`admission under a flood of 200 ADDs: the other source's ADD was up after ${Math.round(admittedAfter)} ms`);
  }, 60_000);
});
