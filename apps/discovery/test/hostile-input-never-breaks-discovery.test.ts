import { FAILURES } from '@conv/protocol';
import {
  APP,
  type FakeConverter,
  HOSTILE_HOSTS,
  HOSTILE_NUMBERS,
  HOSTILE_PORTS,
  type HostileLine,
  RawClient,
  type ServerProcess,
  type SteadyClient,
  connectionStorm,
  describeLine,
  exchangeBytes,
  failureCodeOf,
  fuzzSeed,
  hostileLine,
  residentBytes,
  seededRandom,
  sendSlowly,
  startFakeConverter,
  startServer,
  steadyClient,
  stopAll,
  textLine,
  waitFor,
  waitUntilStalled,
} from '@conv/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The discovery server under hostile input: the built app as a real process, one suite of
 * hostile clients, and a well-behaved client beside them that must be served throughout.
 * Replay a failing run with FUZZ_SEED=<seed> (every failure message names the seed).
 */

const SEED = fuzzSeed(7_2024);
const MAX_CONNECTIONS = 200;
const IDLE_TIMEOUT_MS = 2000;
/** Growth of the server's resident memory allowed over the whole hostile phase. */
const MAX_RSS_GROWTH = 64 * 1024 * 1024;

let discovery: ServerProcess;
let fake: FakeConverter;
let exitedEarly: number | string | undefined;
let rssBefore = 0;
let steady: SteadyClient;
let oneShot: SteadyClient;
/** While the storm runs, a one-shot client may be turned away with TOO_MANY_CONNECTIONS. */
let storming = false;
const encoder = new TextEncoder();

const isKnownCode = (code: string | undefined): boolean => code !== undefined && code !== 'UNSPECIFIED' && Object.hasOwn(FAILURES, code);

beforeAll(async () => {
  fake = await startFakeConverter({ units: ['ft', 'in'], factor: 12 });
  discovery = await startServer(APP.discovery, [
    '0',
    '--db',
    ':memory:',
    // Admission probes only: a routine probe timing out on a busy machine is not what this suite tests.
    '--check-interval',
    '0',
    '--idle-timeout',
    `${IDLE_TIMEOUT_MS}ms`,
    '--max-connections',
    String(MAX_CONNECTIONS),
  ]);
  void discovery.exited.then((code) => (exitedEarly = code));
  const admin = await RawClient.connect(discovery.port);
  admin.write(`ADD ft in 127.0.0.1 ${fake.port}\n`);
  expect(await admin.readUntil(() => true)).toEqual(['SUCCESS']);
  admin.destroy();
  const expected = `127.0.0.1 ${fake.port}`;
  await waitFor(async () => (await askOnce('LOOKUP ft in')) === expected, { what: 'the fake converter admitted', timeoutMs: 15_000 });

  // The well-behaved clients: one connection used again and again, and one connection per request.
  const kept = await keptConnection();
  steady = steadyClient(async () => {
    kept.write('LOOKUP ft in\nPING\nLOOKUP_MULTI in ft\n');
    const reply = await kept.readUntil((line) => line.endsWith(' 1') || line.startsWith('FAILURE'));
    const want = [expected, 'PONG', `in ft 127.0.0.1 ${fake.port} 1`];
    if (JSON.stringify(reply) !== JSON.stringify(want)) throw new Error(`kept connection: ${JSON.stringify(reply)}`);
  });
  oneShot = steadyClient(
    async () => {
      const answer = await askOnce('LOOKUP in ft');
      if (answer === expected) return;
      if (storming && failureCodeOf(answer) === 'TOO_MANY_CONNECTIONS') return;
      throw new Error(`one-shot: ${JSON.stringify(answer)}`);
    },
    { pauseMs: 20 },
  );
  rssBefore = residentBytes(pid());
}, 30_000);

afterAll(async () => {
  await steady?.stop();
  await oneShot?.stop();
  await fake?.close();
  await stopAll();
});

function pid(): number {
  const { pid } = discovery.child;
  if (pid === undefined) throw new Error('discovery has no pid');
  return pid;
}

/** A connection kept for many requests: without SESSION, discovery closes it shortly after each reply. */
async function keptConnection(): Promise<RawClient> {
  const client = await RawClient.connect(discovery.port);
  client.write('SESSION\n');
  expect(await client.readUntil(() => true)).toEqual(['OK session']);
  return client;
}

/** One request on a fresh connection, its first reply line. */
async function askOnce(line: string): Promise<string> {
  const client = await RawClient.connect(discovery.port);
  try {
    client.write(`${line}\n`);
    const [first = ''] = await client.readUntil(() => true);
    return first;
  } finally {
    client.destroy();
  }
}

function concat(...parts: (Uint8Array | string)[]): Uint8Array {
  return Buffer.concat(parts.map((part) => (typeof part === 'string' ? encoder.encode(part) : part)));
}

/**
 * Sends `line` and then PING on one connection, and checks that the reply to `line` is exactly
 * one FAILURE line with a documented code (`code` when given) and the connection still serves.
 */
async function expectOneFailure(client: RawClient, line: HostileLine, code?: string): Promise<void> {
  client.write(concat(line.bytes, '\nPING\n'));
  const what = `seed ${SEED}: ${describeLine(line)}`;
  const lines = await client.readUntil((reply) => reply === 'PONG').catch((error: unknown) => {
    throw new Error(`${what}: ${error instanceof Error ? error.message : String(error)}`);
  });
  const reply = lines.slice(0, -1);
  expect(reply, what).toHaveLength(1);
  const [failure = ''] = reply;
  expect(isKnownCode(failureCodeOf(failure)), `${what}: ${failure}`).toBe(true);
  if (code !== undefined) expect(failureCodeOf(failure), `${what}: ${failure}`).toBe(code);
  // A failure quotes at most 40 characters of the input: the reply never echoes a long line.
  expect(failure.length, `${what}: ${failure}`).toBeLessThan(400);
}

function expectAlive(): void {
  expect(exitedEarly, `seed ${SEED}: discovery exited; output:\n${discovery.output()}`).toBeUndefined();
}

const VERBS = { ADD: 4, REMOVE: 2, LOOKUP: 2, LOOKUP_MULTI: 2, PATH: 2, PING: 0, LIST: 0, HELP: 0, SESSION: 0, FEATURES: 0 } as const;

describe('discovery under hostile input', () => {
  it('answers each random malformed line with exactly one documented FAILURE and keeps the connection', async () => {
    const random = seededRandom(SEED);
    const client = await keptConnection();
    for (let i = 0; i < 200; i++) await expectOneFailure(client, hostileLine(random));
    client.destroy();
    expectAlive();
  }, 30_000);

  it('refuses every verb with the wrong number of arguments with BAD_ARITY', async () => {
    const client = await keptConnection();
    for (const [verb, arity] of Object.entries(VERBS)) {
      for (let count = 0; count <= 6; count++) {
        if (count === arity) continue;
        const args = Array.from({ length: count }, (_, i) => `x${i}`);
        await expectOneFailure(client, textLine('wrong arity', [verb, ...args].join(' ')), 'BAD_ARITY');
        await expectOneFailure(client, textLine('wrong arity', [verb.toLowerCase(), ...args].join('\t')), 'BAD_ARITY');
      }
    }
    client.destroy();
    expectAlive();
  }, 30_000);

  it('refuses hostile ports, hosts and numbers with the code that names them', async () => {
    const client = await keptConnection();
    for (const port of [...HOSTILE_PORTS, ...HOSTILE_NUMBERS.filter((n) => !/^[1-9][0-9]*$/.test(n))]) {
      await expectOneFailure(client, textLine('bad port', `ADD ft in 127.0.0.1 ${port}`), 'BAD_PORT');
      // REMOVE <host> <not a port> is REMOVE <unit1> <unit2> (seed 2's form): a documented failure too.
      await expectOneFailure(client, textLine('bad port', `REMOVE 127.0.0.1 ${port}`));
    }
    for (const host of HOSTILE_HOSTS) {
      await expectOneFailure(client, textLine('bad host', `ADD ft in ${host} 6001`), 'BAD_HOST');
      // Not a host before a port: two units to REMOVE <unit1> <unit2>, or a bad unit; a documented failure either way.
      await expectOneFailure(client, textLine('bad host', `REMOVE ${host} 6001`));
    }
    // A host with a space in it is two tokens: one too many.
    await expectOneFailure(client, textLine('host with a space', 'ADD ft in 127.0.0 .1 6001'), 'BAD_ARITY');
    await expectOneFailure(client, textLine('host with a space', 'REMOVE local host 6001'), 'BAD_ARITY');
    await expectOneFailure(client, textLine('unit of 300 chars', `LOOKUP ${'u'.repeat(300)} ft`), 'BAD_UNIT');
    // Numbers are valid unit symbols; no server converts them, which is a documented failure too.
    for (const number of HOSTILE_NUMBERS) {
      await expectOneFailure(client, textLine('number as a unit', `LOOKUP ${number} ft`));
      await expectOneFailure(client, textLine('number as a unit', `LOOKUP_MULTI ft ${number}`));
    }
    client.destroy();
    expectAlive();
  }, 30_000);

  it('refuses a 1 MB line with one short LINE_TOO_LONG, answers nothing after it, and closes', async () => {
    const mb = 'x'.repeat(1024 * 1024);
    for (const tail of ['\nPING\n', '']) {
      const client = await RawClient.connect(discovery.port);
      client.write(`PING\nLOOKUP ${mb}${tail}`);
      // Without a newline the client keeps its side open: the server must not wait for the rest.
      const lines = await client.waitForEnd(15_000);
      const what = `1 MB line ${tail === '' ? 'without' : 'with'} a newline`;
      expect(lines, what).toHaveLength(2);
      expect(lines[0], what).toBe('PONG');
      expect(failureCodeOf(lines[1] ?? ''), what).toBe('LINE_TOO_LONG');
      expect((lines[1] ?? '').length, what).toBeLessThan(200);
      client.destroy();
    }
    expectAlive();
  }, 30_000);

  it('serves a client that sends one byte at a time, and refuses its malformed line once', async () => {
    const [good, bad] = await Promise.all([RawClient.connect(discovery.port), RawClient.connect(discovery.port)]);
    await Promise.all([sendSlowly(good, 'LOOKUP ft in\n', 50), sendSlowly(bad, 'LOOKUP ft\x00in\n', 50)]);
    expect(await good.readUntil(() => true)).toEqual([`127.0.0.1 ${fake.port}`]);
    const [failure = ''] = await bad.readUntil(() => true);
    expect(failureCodeOf(failure), failure).toBe('BAD_ARITY');
    good.destroy();
    bad.destroy();
    expectAlive();
  }, 30_000);

  it('closes a client that never sends, without a word (course clients read until the close)', async () => {
    const silent = await RawClient.connect(discovery.port);
    const lines = await silent.waitForEnd(IDLE_TIMEOUT_MS + 10_000);
    expect(lines).toEqual([]);
    silent.destroy();
    expectAlive();
  }, 30_000);

  it('shrugs off clients that vanish mid-line, and answers a last line cut by a half-close', async () => {
    const random = seededRandom(SEED + 1);
    const partials = [
      'LOOKUP ft',
      'ADD ft in 127.0.0.1 60',
      concat('LOOKUP ft ', Uint8Array.of(0xe2, 0x82)),
      concat(random.bytes(3000).map((b) => (b === 0x0a ? 0x3f : b))),
    ];
    await Promise.all(
      Array.from({ length: 60 }, async (_, i) => {
        const client = await RawClient.connect(discovery.port);
        client.write(partials[i % partials.length] ?? '');
        client.destroy();
      }),
    );
    // A half-close instead of a reset: the line without its newline still counts.
    const client = await RawClient.connect(discovery.port);
    client.socket.end('PING');
    expect(await client.waitForEnd()).toEqual(['PONG']);
    expectAlive();
  }, 30_000);

  // Regression: a client that pipelined requests without reading made the server build every
  // reply of each 64 KB chunk in memory (HELP is 120 times its request): 20 such clients grew
  // the server by about 240 MB. Now requests wait as the bytes sent until the client reads.
  it('answers a client that pipelines without reading only as fast as it reads, holding no backlog', async () => {
    const before = residentBytes(pid());
    const hoarders = await Promise.all(
      Array.from({ length: 20 }, async () => {
        const client = await RawClient.connect(discovery.port);
        client.socket.pause();
        client.write('HELP\n'.repeat(200_000));
        return client;
      }),
    );
    await waitUntilStalled(hoarders, '20 clients that do not read stalled');
    const growth = residentBytes(pid()) - before;
    console.log(`discovery: 20 clients pipelining 1 MB of HELP without reading grew VmRSS by ${(growth / 2 ** 20).toFixed(1)} MB`);
    expect(growth).toBeLessThan(MAX_RSS_GROWTH);
    for (const client of hoarders) client.destroy();

    // A client that reads at last gets every reply, in order, and then the server's close. Its
    // HELPs come first: their replies are more than the kernels' buffers hold, so the server has
    // to stop reading it.
    const help = await exchangeBytes(discovery.port, 'HELP');
    const late = await RawClient.connect(discovery.port);
    late.socket.pause();
    late.socket.end(`${'HELP\n'.repeat(20_000)}${'PING\n'.repeat(100_000)}LOOKUP ft in`);
    await waitUntilStalled([late], 'a client that does not read stalled', { stillPolls: 2, intervalMs: 50 });
    late.socket.resume();
    const lines = await late.waitForEnd(60_000);
    expect(lines).toHaveLength(20_000 * help.length + 100_001);
    expect(lines.slice(0, help.length)).toEqual(help);
    expect(lines.slice(20_000 * help.length, -1).filter((line) => line !== 'PONG')).toEqual([]);
    expect(lines.at(-1)).toBe(`127.0.0.1 ${fake.port}`);
    expectAlive();
  }, 120_000);

  it('takes a thousand connections at once: serves the accepted, refuses the rest with TOO_MANY_CONNECTIONS', async () => {
    storming = true;
    const outcomes = await connectionStorm(discovery.port, { count: 1000, request: 'PING' });
    let served = 0;
    let refused = 0;
    for (const outcome of outcomes) {
      expect('error' in outcome ? outcome.error : '').toBe('');
      const lines = 'lines' in outcome ? outcome.lines : [];
      if (lines.length === 1 && lines[0] === 'PONG') served++;
      else if (lines.length === 1 && failureCodeOf(lines[0] ?? '') === 'TOO_MANY_CONNECTIONS') refused++;
      // A storm client that waited too long for the others to connect is cut cleanly.
      else expect(lines, 'a storm client that waited too long for the others is closed without a word').toEqual([]);
    }
    console.log(`discovery storm: 1000 connections, ${served} served, ${refused} refused (limit ${MAX_CONNECTIONS})`);
    expect(served).toBeGreaterThan(0);
    expect(refused).toBeGreaterThan(0);
    // Refused clients never count against the limit: a fresh client is served afterwards.
    await waitFor(async () => (await askOnce('PING')) === 'PONG', { what: 'a fresh client served after the storm', timeoutMs: 15_000 });
    // Until a fresh client is served again, the storm's connections may still hold the slots.
    storming = false;
    expectAlive();
  }, 60_000);

  it('served the well-behaved clients correctly throughout, never exited, and kept its memory bounded', async () => {
    const kept = await steady.stop();
    const fresh = await oneShot.stop();
    expect(kept.errors, `seed ${SEED}`).toEqual([]);
    expect(fresh.errors, `seed ${SEED}`).toEqual([]);
    expect(kept.served).toBeGreaterThan(10);
    expect(fresh.served).toBeGreaterThan(10);
    const rssAfter = residentBytes(pid());
    const growth = rssAfter - rssBefore;
    console.log(
      `discovery memory: VmRSS ${(rssBefore / 2 ** 20).toFixed(1)} MB before, ${(rssAfter / 2 ** 20).toFixed(1)} MB after ` +
        `(growth ${(growth / 2 ** 20).toFixed(1)} MB); well-behaved rounds: ${kept.served} kept-connection, ${fresh.served} one-shot`,
    );
    expect(growth).toBeLessThan(MAX_RSS_GROWTH);
    expectAlive();
  });
});
