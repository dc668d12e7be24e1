import { type FakeConverter, LineClient, RawClient, startFakeConverter, stopAll, waitFor } from '@conv/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { FAST_CHECKS, list, startDiscovery } from './helpers';

// Clients and servers written by other course teams, played over real sockets against the real
// discovery server: they read until the server closes, they greet or do not, they remove by pair.
const fakes: FakeConverter[] = [];
afterEach(async () => {
  await stopAll();
  await Promise.all(fakes.splice(0).map((fake) => fake.close()));
});

async function fake(units: readonly [string, string], options: { host?: string; port?: number; greeting?: 'first' | 'none' | 'after-request' } = {}): Promise<FakeConverter> {
  const started = await startFakeConverter({ units, ...options });
  fakes.push(started);
  return started;
}

/** A course client: one request, then read until the server closes; the raw lines it got. */
async function readUntilClose(port: number, line: string): Promise<string[]> {
  const client = await RawClient.connect(port);
  client.write(`${line}\n`);
  const lines = await client.waitForEnd(10_000);
  client.destroy();
  return lines;
}

describe('course clients', () => {
  it('get exactly their reply and then the close when they read until the server closes', async () => {
    const discovery = await startDiscovery(['--db', ':memory:', '--trust-registrations', '--check-interval', '0', '--idle-timeout', '60s']);
    expect(await readUntilClose(discovery.port, 'ADD in cm 127.0.0.1 4001')).toEqual(['SUCCESS']);
    expect(await readUntilClose(discovery.port, 'lookup cm in')).toEqual(['127.0.0.1 4001']);
    expect(await readUntilClose(discovery.port, 'LOOKUP_MULTI in cm')).toEqual(['in cm 127.0.0.1 4001 1']);
    expect(await readUntilClose(discovery.port, 'PING')).toEqual(['PONG']);
    // Several requests sent at once are all answered before the close.
    const client = await RawClient.connect(discovery.port);
    client.write('PING\nLOOKUP in cm\n');
    expect(await client.waitForEnd(10_000)).toEqual(['PONG', '127.0.0.1 4001']);
    client.destroy();
  });

  it('keep a session when they ask for one, as a person at telnet does, with pauses longer than the close grace', async () => {
    const discovery = await startDiscovery(['--db', ':memory:', '--trust-registrations', '--check-interval', '0', '--close-grace', '100ms']);
    const person = await LineClient.connect(discovery.port);
    expect(await person.request('SESSION')).toEqual(['OK session']);
    for (const line of ['ADD ft in 127.0.0.1 4002', 'LOOKUP in ft', 'PING']) {
      // Typing takes a person longer than the close grace.
      const typed = Date.now() + 300;
      await waitFor(() => Date.now() > typed, { what: 'the person to type' });
      person.send(line);
      expect(await person.nextLine(), line).toMatch(/^(SUCCESS|127\.0\.0\.1 4002|PONG)$/);
    }
    expect(person.isClosed).toBe(false);
    person.close();
  });

  it('are told what this server adds to the course protocol by FEATURES, and by HELP to type SESSION first', async () => {
    const discovery = await startDiscovery(['--db', ':memory:', '--check-interval', '0']);
    expect(await readUntilClose(discovery.port, 'features')).toEqual(['FEATURES session report remove-pair watch lease']);
    const help = await readUntilClose(discovery.port, 'HELP');
    expect(help.some((line) => /type SESSION first/.test(line))).toBe(true);
    expect(help.at(-1)).toBe('END');
  });

  it('remove a pair with REMOVE <unit1> <unit2>: from the servers\' own host it removes them all, from anyone else it is a report', async () => {
    const discovery = await startDiscovery(['--db', ':memory:', ...FAST_CHECKS]);
    const a = await fake(['lbs', 'b']);
    const b = await fake(['lbs', 'b']);
    const other = await fake(['b', 'in']);
    for (const [units, server] of [['lbs b', a], ['b lbs', b], ['b in', other]] as const) {
      expect(await readUntilClose(discovery.port, `ADD ${units} 127.0.0.1 ${server.port}`)).toEqual(['SUCCESS']);
    }
    await waitFor(async () => (await list(discovery.port)).filter((line) => / up( |$)/.test(line)).length === 3, { what: 'all three up' });
    // From another address: a report; live servers stay.
    const stranger = await LineClient.connect(discovery.port, { localAddress: '127.0.0.2' });
    stranger.send('REMOVE lbs b');
    await stranger.closed;
    expect(stranger.lines).toEqual(['SUCCESS']);
    await waitFor(async () => (await list(discovery.port)).filter((line) => / up( |$)/.test(line)).length === 3, { what: 'the reported servers up again' });
    // From their own host: removed, every one of the pair, and nothing else.
    expect(await readUntilClose(discovery.port, 'REMOVE lbs b')).toEqual(['SUCCESS']);
    expect(await list(discovery.port)).toEqual([`b in 127.0.0.1 ${other.port} up`]);
    expect(await readUntilClose(discovery.port, 'REMOVE lbs b')).toEqual(['FAILURE not registered. Nothing is registered for lbs b. (NOT_REGISTERED)']);
  });
});

describe('conversion servers of other teams', () => {
  it('are admitted whether they greet first, never, or only after reading the request', async () => {
    const discovery = await startDiscovery(['--db', ':memory:', ...FAST_CHECKS]);
    const servers = [await fake(['ft', 'in'], { greeting: 'first' }), await fake(['ft', 'in'], { greeting: 'none' }), await fake(['ft', 'in'], { greeting: 'after-request' })];
    for (const server of servers) expect(await readUntilClose(discovery.port, `ADD ft in 127.0.0.1 ${server.port}`)).toEqual(['SUCCESS']);
    const up = await waitFor(async () => {
      const lines = await list(discovery.port);
      return lines.filter((line) => / up( |$)/.test(line)).length === 3 ? lines : undefined;
    }, { what: 'every kind of server admitted' });
    expect(up).toHaveLength(3);
  });

  it('restarted on a port that served another pair, replace the dead registration; a live one keeps it', async () => {
    const discovery = await startDiscovery(['--db', ':memory:', ...FAST_CHECKS, '--fail-threshold', '1']);
    const old = await fake(['ft', 'in']);
    const port = old.port;
    expect(await readUntilClose(discovery.port, `ADD ft in 127.0.0.1 ${port}`)).toEqual(['SUCCESS']);
    await waitFor(async () => (await list(discovery.port)).some((line) => line.startsWith(`ft in 127.0.0.1 ${port} up`)), { what: 'ft in up' });
    // While the old server answers, the entry is its own.
    expect(await readUntilClose(discovery.port, `ADD b in 127.0.0.1 ${port}`)).toEqual([
      `FAILURE entry exists. 127.0.0.1 ${port} is registered for ft in; REMOVE it first. (ENTRY_EXISTS)`,
    ]);
    await old.close();
    fakes.splice(fakes.indexOf(old), 1);
    await waitFor(async () => (await list(discovery.port)).includes(`ft in 127.0.0.1 ${port} down`), { what: 'the old server down' });
    await fake(['b', 'in'], { port });
    expect(await readUntilClose(discovery.port, `ADD b in 127.0.0.1 ${port}`)).toEqual(['SUCCESS']);
    await waitFor(async () => (await list(discovery.port)).some((line) => line.startsWith(`b in 127.0.0.1 ${port} up`)), { what: 'the new pair up' });
    expect((await list(discovery.port)).filter((line) => line.includes(` ${port} `))).toEqual([`b in 127.0.0.1 ${port} up`]);
  });
});

describe("the seed's suggested test sequence", () => {
  it('gives the seed\'s answers with live servers behind its addresses, REMOVE lbs b included', async () => {
    const discovery = await startDiscovery(['--db', ':memory:', ...FAST_CHECKS]);
    const lbs = await fake(['lbs', 'b'], { host: '127.0.0.1' });
    const ban = await fake(['ban', 'b'], { host: '127.0.0.2' });
    const telnet = await LineClient.connect(discovery.port);
    expect(await telnet.request('SESSION')).toEqual(['OK session']);
    expect(await telnet.request(`ADD lbs b 127.0.0.1 ${lbs.port}`)).toEqual(['SUCCESS']);
    expect(await telnet.request(`ADD ban b 127.0.0.2 ${ban.port}`)).toEqual(['SUCCESS']);
    await waitFor(async () => (await list(discovery.port)).filter((line) => / up( |$)/.test(line)).length === 2, { what: 'both checked' });
    expect(await telnet.request('LOOKUP lbs b')).toEqual([`127.0.0.1 ${lbs.port}`]);
    expect(await telnet.request('LOOKUP_MULTI ban lbs', (line) => line.endsWith(' 1'))).toEqual([`ban b 127.0.0.2 ${ban.port} 0`, `b lbs 127.0.0.1 ${lbs.port} 1`]);
    expect(await telnet.request('REMOVE lbs b')).toEqual(['SUCCESS']);
    expect(await telnet.request('LOOKUP lbs b')).toEqual(['FAILURE unknown pair. No healthy server converts b <-> lbs. (UNKNOWN_PAIR)']);
    telnet.close();
  });
});
