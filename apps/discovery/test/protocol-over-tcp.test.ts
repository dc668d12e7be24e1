import { LineClient, startFakeConverter, stopAll, waitFor, type FakeConverter } from '@conv/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { ask, askOnce, FAST_CHECKS, list, oneShot, openSession, readReply, startDiscovery } from './helpers';

const converters: FakeConverter[] = [];
afterEach(async () => {
  await Promise.all(converters.splice(0).map((c) => c.close()));
  await stopAll();
});

async function converter(units: [string, string], host = '127.0.0.1'): Promise<FakeConverter> {
  const c = await startFakeConverter({ units, host });
  converters.push(c);
  return c;
}

describe('the seed\'s suggested session over TCP', () => {
  it('gives the answers of docs/protocol.md\'s session example', async () => {
    const discovery = await startDiscovery(['--db', ':memory:', ...FAST_CHECKS]);
    const lbs = await converter(['lbs', 'b'], '127.0.0.1');
    const ban = await converter(['ban', 'b'], '127.0.0.2');
    const client = await openSession(discovery.port);
    expect(await ask(client, `ADD lbs b 127.0.0.1 ${lbs.port}`)).toEqual(['SUCCESS']);
    expect(await ask(client, `ADD ban b 127.0.0.2 ${ban.port}`)).toEqual(['SUCCESS']);
    // Both are handed out once their admission probe has passed.
    // Two lines, both up (every() of an empty list would be true at once).
    await waitFor(async () => ((lines) => lines.length === 2 && lines.every((line) => / up( |$)/.test(line)))(await list(discovery.port)), { what: 'both up' });

    expect(await ask(client, 'lookup b lbs')).toEqual([`127.0.0.1 ${lbs.port}`]);
    expect(await ask(client, 'LOOKUP_MULTI ban lbs')).toEqual([`ban b 127.0.0.2 ${ban.port} 0`, `b lbs 127.0.0.1 ${lbs.port} 1`]);
    expect(await ask(client, `ADD ft in 127.0.0.1 ${lbs.port}`)).toEqual([
      `FAILURE entry exists. 127.0.0.1 ${lbs.port} is registered for b lbs; REMOVE it first. (ENTRY_EXISTS)`,
    ]);
    expect(await ask(client, 'REMOVE lbs b')).toEqual(['SUCCESS']);
    expect(await ask(client, `REMOVE 127.0.0.1 ${lbs.port}`)).toEqual([`FAILURE not registered. Nothing is registered at 127.0.0.1 ${lbs.port}. (NOT_REGISTERED)`]);
    expect(await ask(client, 'LOOKUP lbs b')).toEqual(['FAILURE unknown pair. No healthy server converts b <-> lbs. (UNKNOWN_PAIR)']);
    expect(await ask(client, 'LIST')).toEqual([`b ban 127.0.0.2 ${ban.port} up`, 'END']);
    expect(await ask(client, 'FEATURES')).toEqual(['FEATURES session report remove-pair watch lease']);
    expect(await ask(client, 'PING')).toEqual(['PONG']);
    expect(await ask(client, 'FETCH ft in')).toEqual([
      'FAILURE unknown command. "FETCH" is not a command; expected ADD, REMOVE, REPORT, LOOKUP, LOOKUP_MULTI (or PATH), PING, LIST, HELP, SESSION, FEATURES or WATCH. (UNKNOWN_VERB)',
    ]);
    const help = await ask(client, 'HELP');
    expect(help.at(-1)).toBe('END');
    expect(help.length).toBeGreaterThan(5);
    client.close();
  });
});

describe('connections', () => {
  it('answers a one-shot client that sends one line and half-closes, then closes', async () => {
    const discovery = await startDiscovery(['--db', ':memory:']);
    const client = await LineClient.connect(discovery.port);
    client.socket.end('PING'); // last line without \n, as `nc -N` sends it
    await client.closed;
    expect(client.lines).toEqual(['PONG']);
    expect(await oneShot(discovery.port, 'LOOKUP ft in')).toEqual(['FAILURE unknown pair. No healthy server converts ft <-> in. (UNKNOWN_PAIR)']);
  });

  it('answers pipelined commands on one connection in order', async () => {
    const discovery = await startDiscovery(['--db', ':memory:', '--trust-registrations', '--check-interval', '0']);
    const client = await openSession(discovery.port);
    const requests = ['ADD ft in 127.0.0.1 4001', 'ADD in ft 127.0.0.1 4002', 'LOOKUP ft in', 'LIST', 'LOOKUP in ft', 'PING', 'BOGUS', 'LOOKUP_MULTI ft in'];
    client.send(requests.join('\n') + '\n');
    const replies: string[][] = [];
    for (const request of requests) replies.push(await readReply(client, request));
    expect(replies).toEqual([
      ['SUCCESS'],
      ['SUCCESS'],
      ['127.0.0.1 4001'],
      ['ft in 127.0.0.1 4001 up', 'ft in 127.0.0.1 4002 up', 'END'],
      ['127.0.0.1 4002'],
      ['PONG'],
      [expect.stringMatching(/\(UNKNOWN_VERB\)$/)],
      ['ft in 127.0.0.1 4001 1'],
    ]);
    // Byte by byte is the same stream.
    for (const byte of Buffer.from('PI\r\nNG\nPING\r\n')) client.send(Buffer.from([byte]));
    expect(await client.nextLines(2)).toEqual(['FAILURE unknown command. "PI" is not a command; expected ADD, REMOVE, REPORT, LOOKUP, LOOKUP_MULTI (or PATH), PING, LIST, HELP, SESSION, FEATURES or WATCH. (UNKNOWN_VERB)', 'FAILURE unknown command. "NG" is not a command; expected ADD, REMOVE, REPORT, LOOKUP, LOOKUP_MULTI (or PATH), PING, LIST, HELP, SESSION, FEATURES or WATCH. (UNKNOWN_VERB)']);
    expect(await client.nextLine()).toBe('PONG');
    client.close();
  });

  it('alternates LOOKUP answers round robin, seen over TCP', async () => {
    const discovery = await startDiscovery(['--db', ':memory:', ...FAST_CHECKS]);
    const a = await converter(['ft', 'in']);
    const b = await converter(['ft', 'in'], '127.0.0.2');
    await askOnce(discovery.port, `ADD ft in 127.0.0.1 ${a.port}`);
    await askOnce(discovery.port, `ADD in ft 127.0.0.2 ${b.port}`);
    await waitFor(async () => (await list(discovery.port)).filter((l) => / up( |$)/.test(l)).length === 2, { what: 'both up' });
    const client = await openSession(discovery.port);
    const answers: string[] = [];
    for (let i = 0; i < 4; i++) answers.push(...(await ask(client, i % 2 ? 'LOOKUP in ft' : 'LOOKUP ft in')));
    expect(answers).toEqual([`127.0.0.1 ${a.port}`, `127.0.0.2 ${b.port}`, `127.0.0.1 ${a.port}`, `127.0.0.2 ${b.port}`]);
    // A second connection continues the same rotation.
    expect(await askOnce(discovery.port, 'LOOKUP ft in')).toEqual([`127.0.0.1 ${a.port}`]);
    client.close();
  });

  it('sends a greeting only when asked to', async () => {
    const plain = await startDiscovery(['--db', ':memory:']);
    expect(await oneShot(plain.port, 'PING')).toEqual(['PONG']);
    const greeting = await startDiscovery(['--db', ':memory:', '--greeting']);
    expect(await oneShot(greeting.port, 'PING')).toEqual(['HELLO discovery - send HELP for commands', 'PONG']);
  });
});
