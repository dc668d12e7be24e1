import { FAILURES } from '@conv/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  HOSTILE_NUMBERS,
  type HostileLine,
  RawClient,
  type SteadyClient,
  connectionStorm,
  describeLine,
  exchangeBytes,
  failureCodeOf,
  hostileLine,
  residentBytes,
  seededRandom,
  sendSlowly,
  steadyClient,
  textLine,
} from './hostile';
import { waitUntilStalled } from './stalled';
import { type ServerProcess, stopAll } from './processes';
import { waitFor } from './wait-for';

/**
 * One fuzz suite for every server that speaks the conversion protocol (the converter, the
 * proxy), the way Hono runs one router suite against every router: hostile clients, and
 * well-behaved clients beside them that must be answered correctly throughout. The server
 * under test answers ft <-> in (1 ft = 12 in). Replay a failing run with FUZZ_SEED=<seed>.
 */

/** The limits the suite drives the server into; `start` passes them as --max-connections and --idle-timeout. */
export type HostileLimits = { readonly maxConnections: number; readonly idleTimeoutMs: number };

export type ConversionServerUnderTest = {
  /** The server the hostile clients talk to; its resident memory is watched. */
  readonly server: ServerProcess;
  /** What it needs running (discovery, a converter): any of them exiting fails the suite too. */
  readonly alongside?: Readonly<Record<string, ServerProcess>>;
};

/** What a server's own extra cases see; valid once the suite's `beforeAll` has run. */
export type HostileContext = {
  readonly seed: number;
  readonly greeting: string;
  readonly limits: HostileLimits;
  /** Growth of the server's resident memory allowed over the whole hostile phase. */
  readonly maxRssGrowth: number;
  readonly port: () => number;
  readonly pid: () => number;
  /** Fails if the server or anything alongside it has exited. */
  readonly expectAlive: () => void;
  /** Checks a one-line reply: one FAILURE line with a documented code (`code` when given), short. */
  readonly expectFailureLine: (reply: readonly string[], what: string, code?: string) => void;
};

export type ConversionServerSuite = {
  /** The describe block's title: `a converter under hostile input`. */
  readonly title: string;
  /** The server's name in the figures the suite prints: `converter storm: ...`. */
  readonly name: string;
  /** `fuzzSeed(<fixed>)`: the seed of this run. */
  readonly seed: number;
  /** The greeting line the server sends first on every connection. */
  readonly greeting: string;
  /** Starts the server (and what it needs) with these limits; resolves once it answers. */
  start(limits: HostileLimits): Promise<ConversionServerUnderTest>;
  /** This server's own refusals, `[line, FAILURE code]`, checked beside the shared ones. */
  readonly refusals: readonly (readonly [string, string])[];
  /** Lines that must get exactly one FAILURE with any documented code, `[kind, line]`. */
  readonly documentedFailures?: readonly (readonly [string, string])[];
  /** More cases for this server only, declared (and run) before the connection storm. */
  readonly moreHostility?: (context: HostileContext) => void;
};

const LIMITS: HostileLimits = { maxConnections: 100, idleTimeoutMs: 2000 };
const MAX_RSS_GROWTH = 64 * 1024 * 1024;

const isKnownCode = (code: string | undefined): boolean => code !== undefined && code !== 'UNSPECIFIED' && Object.hasOwn(FAILURES, code);

/** Runs `work` over `items` with at most `width` at a time. */
async function inParallel<T>(items: readonly T[], width: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) {
        const item = items[next++] as T;
        await work(item);
      }
    }),
  );
}

export function describeConversionServerUnderHostileInput(suite: ConversionServerSuite): void {
  const { seed: SEED, greeting: GREETING, name } = suite;
  const { maxConnections: MAX_CONNECTIONS, idleTimeoutMs: IDLE_TIMEOUT_MS } = LIMITS;
  let server: ServerProcess | undefined;
  const exits: string[] = [];
  let rssBefore = 0;
  let steady: SteadyClient | undefined;
  let oneShot: SteadyClient | undefined;
  /** While connections are being hoarded, a one-shot client may be turned away with TOO_MANY_CONNECTIONS. */
  let crowded = false;

  const port = (): number => {
    if (server === undefined) throw new Error(`the ${name} has not started`);
    return server.port;
  };
  const pid = (): number => {
    const found = server?.child.pid;
    if (found === undefined) throw new Error(`the ${name} has no pid`);
    return found;
  };
  const expectAlive = (): void => {
    expect(exits, `seed ${SEED}`).toEqual([]);
  };
  const expectFailureLine = (reply: readonly string[], what: string, code?: string): void => {
    expect(reply, what).toHaveLength(1);
    const [line = ''] = reply;
    expect(isKnownCode(failureCodeOf(line)), `${what}: ${line}`).toBe(true);
    if (code !== undefined) expect(failureCodeOf(line), `${what}: ${line}`).toBe(code);
    // A failure quotes at most 40 characters of the input: the reply never echoes a long line.
    expect(line.length, `${what}: ${line}`).toBeLessThan(400);
  };

  /** The course's exchange: greeting, then exactly one FAILURE line, then the server closes. */
  async function expectOneShotFailure(line: HostileLine, code?: string): Promise<void> {
    const what = `seed ${SEED}: ${describeLine(line)}`;
    const lines = await exchangeBytes(port(), line.bytes);
    expect(lines[0], what).toBe(GREETING);
    expectFailureLine(lines.slice(1), what, code);
  }

  /** Persistent mode: exactly one FAILURE line for `line`, and the connection still answers. */
  async function expectPersistentFailure(client: RawClient, line: HostileLine): Promise<void> {
    const what = `seed ${SEED}: ${describeLine(line)}`;
    client.write(Buffer.concat([line.bytes, Buffer.from('\nft in 1\n')]));
    const lines = await client.readUntil((reply) => reply === '12').catch((error: unknown) => {
      throw new Error(`${what}: ${error instanceof Error ? error.message : String(error)}`);
    });
    expectFailureLine(lines.slice(0, -1), what);
  }

  describe(suite.title, () => {
    beforeAll(async () => {
      const started = await suite.start(LIMITS);
      server = started.server;
      for (const [processName, child] of [[name, started.server], ...Object.entries(started.alongside ?? {})] as const) {
        void child.exited.then((code) => exits.push(`${processName} exited (${code}); output:\n${child.output()}`));
      }

      // The well-behaved clients: one persistent connection, and the course's one request per connection.
      const kept = await RawClient.connect(port());
      kept.write('PERSIST\n');
      expect(await kept.readUntil((line) => line === 'OK persistent')).toEqual([GREETING, 'OK persistent']);
      steady = steadyClient(async () => {
        kept.write('ft in 1.25\nin ft 30\n');
        const reply = await kept.readUntil((line) => line === '2.5' || line.startsWith('FAILURE'));
        if (JSON.stringify(reply) !== JSON.stringify(['15', '2.5'])) throw new Error(`kept connection: ${JSON.stringify(reply)}`);
      });
      oneShot = steadyClient(
        async () => {
          const lines = await exchangeBytes(port(), 'in ft 6');
          if (JSON.stringify(lines) === JSON.stringify([GREETING, '0.5'])) return;
          if (crowded && lines.length === 1 && failureCodeOf(lines[0] ?? '') === 'TOO_MANY_CONNECTIONS') return;
          throw new Error(`one-shot: ${JSON.stringify(lines)}`);
        },
        { pauseMs: 20 },
      );
      rssBefore = residentBytes(pid());
    }, 30_000);

    afterAll(async () => {
      await steady?.stop();
      await oneShot?.stop();
      await stopAll();
    });

    it('answers each random malformed request with its greeting and exactly one documented FAILURE, then closes', async () => {
      const random = seededRandom(SEED);
      const lines = Array.from({ length: 150 }, () => hostileLine(random));
      await inParallel(lines, 6, (line) => expectOneShotFailure(line));
      expectAlive();
    }, 30_000);

    it('in persistent mode answers each malformed line with exactly one FAILURE and keeps the connection', async () => {
      const random = seededRandom(SEED + 1);
      const client = await RawClient.connect(port());
      client.write('PERSIST\n');
      await client.readUntil((line) => line === 'OK persistent');
      for (let i = 0; i < 150; i++) await expectPersistentFailure(client, hostileLine(random));
      client.destroy();
      expectAlive();
    }, 30_000);

    it('refuses wrong arity, hostile numbers and bad units with the code that names them', async () => {
      const cases: (readonly [string, string])[] = [
        ['ft', 'BAD_ARITY'],
        ['ft in', 'BAD_ARITY'],
        ['ft in 1 2', 'BAD_ARITY'],
        ['PERSIST now', 'BAD_ARITY'],
        [Array.from({ length: 1200 }, () => 'ft').join(' '), 'BAD_ARITY'],
        ...suite.refusals,
        [`${'u'.repeat(300)} in 1`, 'BAD_UNIT'],
        ['f\u0000t in 1', 'BAD_UNIT'],
        ['ft in\u0007 1', 'BAD_UNIT'],
        ...HOSTILE_NUMBERS.filter((n) => n !== '-0').map((n): [string, string] => [`ft in ${n}`, 'BAD_AMOUNT']),
      ];
      await inParallel(cases, 4, ([text, code]) => expectOneShotFailure(textLine('hand-written', text), code));
      for (const [kind, text] of suite.documentedFailures ?? []) await expectOneShotFailure(textLine(kind, text));
      // Negative zero is a number, written back as 0.
      expect(await exchangeBytes(port(), 'ft in -0')).toEqual([GREETING, '0']);
      expect(await exchangeBytes(port(), 'ft in 08')).toEqual([GREETING, '96']);
      expectAlive();
    }, 30_000);

    it('refuses a 1 MB line with one short LINE_TOO_LONG, answers nothing after it, and closes', async () => {
      const mb = 'x'.repeat(1024 * 1024);
      for (const tail of ['\nft in 1\n', '']) {
        const what = `1 MB line ${tail === '' ? 'without' : 'with'} a newline`;
        // Without a newline the client keeps its side open: the server must not wait for the rest.
        const oneShotClient = await RawClient.connect(port());
        oneShotClient.write(`ft in ${mb}${tail}`);
        const lines = await oneShotClient.waitForEnd(15_000);
        oneShotClient.destroy();
        expect(lines[0], what).toBe(GREETING);
        expectFailureLine(lines.slice(1), what, 'LINE_TOO_LONG');

        const persistent = await RawClient.connect(port());
        persistent.write(`PERSIST\nft in 1\nft in ${mb}${tail}`);
        const persistentLines = await persistent.waitForEnd(15_000);
        persistent.destroy();
        expect(persistentLines.slice(0, 3), what).toEqual([GREETING, 'OK persistent', '12']);
        expectFailureLine(persistentLines.slice(3), `persistent ${what}`, 'LINE_TOO_LONG');
      }
      expectAlive();
    }, 30_000);

    it('answers a client that sends one byte at a time, and refuses its malformed request once', async () => {
      const [good, bad] = await Promise.all([RawClient.connect(port()), RawClient.connect(port())]);
      await Promise.all([sendSlowly(good, 'ft in 1.25\n', 50), sendSlowly(bad, 'ft in 0x1F\n', 50)]);
      expect(await good.waitForEnd()).toEqual([GREETING, '15']);
      const lines = await bad.waitForEnd();
      expect(lines[0]).toBe(GREETING);
      expectFailureLine(lines.slice(1), 'slow 0x1F', 'BAD_AMOUNT');
      expectAlive();
    }, 30_000);

    it('closes a client that never sends with one IDLE_TIMEOUT line after its greeting', async () => {
      const silent = await RawClient.connect(port());
      const lines = await silent.waitForEnd(IDLE_TIMEOUT_MS + 10_000);
      silent.destroy();
      expect(lines[0]).toBe(GREETING);
      expectFailureLine(lines.slice(1), 'silent client', 'IDLE_TIMEOUT');
      expectAlive();
    }, 30_000);

    it('shrugs off clients that vanish mid-line, and answers a last line cut by a half-close', async () => {
      const random = seededRandom(SEED + 2);
      const partials = ['ft in', 'PERSIST', Buffer.from([0x66, 0x74, 0x20, 0xe2, 0x82]), random.bytes(3000).map((b) => (b === 0x0a ? 0x3f : b))];
      await Promise.all(
        Array.from({ length: 60 }, async (_, i) => {
          const client = await RawClient.connect(port());
          client.write(partials[i % partials.length] ?? '');
          client.destroy();
        }),
      );
      const client = await RawClient.connect(port());
      client.socket.end('ft in 3');
      expect(await client.waitForEnd()).toEqual([GREETING, '36']);
      expectAlive();
    }, 30_000);

    // Regression (proxy): it kept a half-closed client's socket (and its connection slot) forever,
    // so MAX_CONNECTIONS clients that read their answer and never closed locked everyone out.
    it('frees the slots of clients that take their answer and never close', async () => {
      crowded = true;
      const hoarders = await Promise.all(
        Array.from({ length: MAX_CONNECTIONS }, async () => {
          const client = await RawClient.connect(port(), { allowHalfOpen: true });
          client.write('ft in 1\n');
          await client.waitForEnd();
          return client;
        }),
      );
      try {
        await waitFor(async () => JSON.stringify(await exchangeBytes(port(), 'ft in 2')) === JSON.stringify([GREETING, '24']), {
          what: 'a fresh client served while others hold their connections open',
          timeoutMs: IDLE_TIMEOUT_MS * 3 + 10_000,
        });
      } finally {
        for (const client of hoarders) client.destroy();
        crowded = false;
      }
      expectAlive();
    }, 60_000);

    // Regression (converter, then proxy): each answered a whole 64 KB chunk, or framed it into
    // tens of thousands of queued lines, before looking at the client's unread replies; 60 clients
    // pipelining 1 MB of bad lines without reading grew them by tens of megabytes. Now input waits
    // as bytes and is answered only as fast as the client reads.
    it('answers a client that pipelines without reading only as fast as it reads, holding no backlog', async () => {
      const before = residentBytes(pid());
      const hoarders = await Promise.all(
        // 20, not more: the server now really serves each until it stalls (megabytes of replies
        // each), and on a loaded machine 60 of them starved the well-behaved clients past their idle timeout.
        Array.from({ length: 20 }, async () => {
          const client = await RawClient.connect(port());
          client.socket.pause();
          client.write(`PERSIST\n${'x\n'.repeat(500_000)}`);
          return client;
        }),
      );
      await waitUntilStalled(hoarders, '20 clients that do not read stalled');
      const growth = residentBytes(pid()) - before;
      console.log(`${suite.name}: 20 clients pipelining 1 MB of bad lines without reading grew VmRSS by ${(growth / 2 ** 20).toFixed(1)} MB`);
      expect(growth).toBeLessThan(MAX_RSS_GROWTH);
      for (const client of hoarders) client.destroy();

      // A client that reads at last gets every reply, in order, then the server's close. Its bad
      // lines come first: their replies (35 times the request) are more than the kernels' buffers
      // hold, so the server has to stop reading it.
      const late = await RawClient.connect(port());
      late.socket.pause();
      late.socket.end(`PERSIST\n${'x\n'.repeat(150_000)}${'ft in 1\n'.repeat(20_000)}ft in 2`);
      await waitUntilStalled([late], 'a client that does not read stalled', { stillPolls: 2, intervalMs: 50 });
      late.socket.resume();
      const lines = await late.waitForEnd(60_000);
      expect(lines).toHaveLength(170_003);
      expect(lines.slice(0, 2)).toEqual([GREETING, 'OK persistent']);
      expect(lines.slice(2, 150_002).filter((line) => failureCodeOf(line) === undefined)).toEqual([]);
      expect(lines.slice(150_002, 170_002).filter((line) => line !== '12')).toEqual([]);
      expect(lines.at(-1)).toBe('24');
      expectAlive();
    }, 120_000);

    suite.moreHostility?.({ seed: SEED, greeting: GREETING, limits: LIMITS, maxRssGrowth: MAX_RSS_GROWTH, port, pid, expectAlive, expectFailureLine });

    it('takes a thousand connections at once: answers the accepted, refuses the rest with TOO_MANY_CONNECTIONS', async () => {
      crowded = true;
      const outcomes = await connectionStorm(port(), { count: 1000, request: 'ft in 1' });
      let served = 0;
      let refused = 0;
      for (const outcome of outcomes) {
        expect('error' in outcome ? outcome.error : '').toBe('');
        const lines = 'lines' in outcome ? outcome.lines : [];
        if (JSON.stringify(lines) === JSON.stringify([GREETING, '12'])) served++;
        else if (lines.length === 1 && failureCodeOf(lines[0] ?? '') === 'TOO_MANY_CONNECTIONS') refused++;
        // A storm client that waited too long for the others to connect is cut cleanly.
        else expect(lines.length === 2 && lines[0] === GREETING && failureCodeOf(lines[1] ?? '') === 'IDLE_TIMEOUT', JSON.stringify(lines)).toBe(true);
      }
      console.log(`${name} storm: 1000 connections, ${served} served, ${refused} refused (limit ${MAX_CONNECTIONS})`);
      expect(served).toBeGreaterThan(0);
      expect(refused).toBeGreaterThan(0);
      await waitFor(async () => JSON.stringify(await exchangeBytes(port(), 'ft in 1')) === JSON.stringify([GREETING, '12']), {
        what: 'a fresh client served after the storm',
        timeoutMs: 15_000,
      });
      // Until a fresh client is served again, the storm's connections may still hold the slots.
      crowded = false;
      expectAlive();
    }, 60_000);

    it('answered the well-behaved clients correctly throughout, never exited, and kept its memory bounded', async () => {
      if (steady === undefined || oneShot === undefined) throw new Error(`seed ${SEED}: the well-behaved clients never started`);
      const kept = await steady.stop();
      const fresh = await oneShot.stop();
      // The first error names the cause; the rest usually follow from it (a kept connection that was cut).
      expect(kept.errors, `seed ${SEED}, first error: ${kept.errors[0] ?? ''}`).toEqual([]);
      expect(fresh.errors, `seed ${SEED}, first error: ${fresh.errors[0] ?? ''}`).toEqual([]);
      expect(kept.served).toBeGreaterThan(10);
      expect(fresh.served).toBeGreaterThan(10);
      const rssAfter = residentBytes(pid());
      const growth = rssAfter - rssBefore;
      console.log(
        `${name} memory: VmRSS ${(rssBefore / 2 ** 20).toFixed(1)} MB before, ${(rssAfter / 2 ** 20).toFixed(1)} MB after ` +
          `(growth ${(growth / 2 ** 20).toFixed(1)} MB); well-behaved rounds: ${kept.served} persistent, ${fresh.served} one-shot`,
      );
      expect(growth).toBeLessThan(MAX_RSS_GROWTH);
      expectAlive();
    });
  });
}
