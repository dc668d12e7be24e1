import { afterEach, describe, expect, it } from 'vitest';
import { APP, LineClient, exchange, findLog, openSocket, startServer, stopAll, waitFor } from '@conv/testkit';
import { createServer } from 'node:net';
import { freePort, runConverter } from './harness';

const GREETING = 'HELLO converter ft in - send "<from> <to> <amount>"';

const converter = (pair: string, ...flags: string[]) => startServer(APP.converter, ['0', '--pair', pair, '--no-register', ...flags]);

afterEach(stopAll);

describe('the built converter, over loopback', () => {
  it('prints one banner naming its pair, address and discovery', async () => {
    const discovery = await freePort();
    const server = await startServer(APP.converter, ['0', '--pair', 'b:in', '--discovery', `127.0.0.1:${discovery}`]);
    expect(server.banner).toBe(`converter b <-> in listening on 127.0.0.1:${server.port} (loopback only; --host to expose; discovery 127.0.0.1:${discovery})`);
  });

  it('talks to a course client: greeting, one request, one answer, close', async () => {
    const server = await converter('ft:in');
    expect(await exchange(server.port, 'ft in 1.25')).toEqual([GREETING, '15']);
    expect(await exchange(server.port, 'in ft 30')).toEqual([GREETING, '2.5']);
  });

  it('answers exactly per the catalog', async () => {
    const [feet, celsius] = await Promise.all([converter('ft:m'), converter('C:F')]);
    expect((await exchange(feet.port, 'ft m 1'))[1]).toBe('0.3048');
    expect((await exchange(celsius.port, 'C F 100'))[1]).toBe('212');
    expect((await exchange(celsius.port, 'F C 212'))[1]).toBe('100');
  });

  it('answers another pair, or a unit it has never heard of, with WRONG_PAIR naming its own; a malformed line with the parser failure', async () => {
    const server = await converter('ft:in');
    expect((await exchange(server.port, 'kg lbs 3'))[1]).toBe('FAILURE wrong pair. This server converts ft <-> in only. (WRONG_PAIR)');
    // Not UNKNOWN_PAIR: that is discovery's word for a pair nobody serves; a converter says which one it does.
    expect((await exchange(server.port, 'furlong in 1'))[1]).toBe('FAILURE wrong pair. This server converts ft <-> in only. (WRONG_PAIR)');
    expect((await exchange(server.port, 'ft in'))[1]).toMatch(/^FAILURE wrong number of arguments\. .*\(BAD_ARITY\)$/);
    expect((await exchange(server.port, 'ft in 1'))[1]).toBe('12');
  });

  it('answers TRACE with BAD_ARITY, as docs/protocol.md says: only the proxy traces', async () => {
    const server = await converter('ft:in');
    expect((await exchange(server.port, 'TRACE ft in 1'))[1]).toMatch(/^FAILURE wrong number of arguments\. .*got 4 tokens.*\(BAD_ARITY\)$/);
  });

  it('serves a pair from --factor and --offset, and logs that a factor overrides the catalog', async () => {
    const custom = await converter('tc:tf', '--factor', '1.8', '--offset', '32');
    expect((await exchange(custom.port, 'tf tc 212'))[1]).toBe('100');
    const overridden = await converter('ft:in', '--factor', '10');
    expect((await exchange(overridden.port, 'ft in 2'))[1]).toBe('20');
    // The log line (stderr) may arrive after the banner (stdout): poll for it, then judge it.
    const warning = await waitFor(() => findLog(overridden.output(), 'warn', 'factor-overrides-catalog'), { what: 'the factor-overrides-catalog warning' });
    expect(warning).toMatchObject({ pair: 'ft:in', factor: 10, catalog: '1 ft = 12 in' });
  });

  it('answers every line after PERSIST until the client closes', async () => {
    const server = await converter('ft:in');
    const client = await LineClient.connect(server.port);
    expect(await client.nextLine()).toBe(GREETING);
    expect(await client.request('PERSIST')).toEqual(['OK persistent']);
    expect(await client.request('ft in 1')).toEqual(['12']);
    expect(await client.request('in ft 30')).toEqual(['2.5']);
    expect(await client.request('kg lbs 1')).toEqual(['FAILURE wrong pair. This server converts ft <-> in only. (WRONG_PAIR)']);
    client.send('ft in 2\nft in 3\nft in 4\n');
    expect(await client.nextLines(3)).toEqual(['24', '36', '48']);
    expect(client.isClosed).toBe(false);
    client.close();
  });
});

describe('the converter bounds what a client can take', () => {
  it('turns away a client over --max-connections, and takes new ones when a slot frees', async () => {
    const server = await converter('ft:in', '--max-connections', '2');
    const first = await LineClient.connect(server.port);
    const second = await LineClient.connect(server.port);
    await Promise.all([first.nextLine(), second.nextLine()]);
    expect(await exchange(server.port, 'ft in 1')).toEqual([
      'FAILURE too many connections. This server takes 2 connections at most; try again later. (TOO_MANY_CONNECTIONS)',
    ]);
    first.close();
    await waitFor(async () => (await exchange(server.port, 'ft in 1'))[1] === '12', { what: 'a freed connection slot' });
    second.close();
  });

  it('closes a client idle past --idle-timeout with IDLE_TIMEOUT', async () => {
    const server = await converter('ft:in', '--idle-timeout', '200ms');
    const client = await LineClient.connect(server.port);
    expect(await client.nextLines(2)).toEqual([GREETING, 'FAILURE idle timeout. Nothing was received for 200 ms; closing. (IDLE_TIMEOUT)']);
    await client.closed;
  });

  it('refuses a line over 4096 bytes and closes, and keeps serving everyone else', async () => {
    const server = await converter('ft:in');
    const client = await LineClient.connect(server.port);
    client.send(`ft in ${'1'.repeat(5000)}\n`);
    expect(await client.nextLines(2)).toEqual([GREETING, 'FAILURE line too long. Lines are limited to 4096 bytes. (LINE_TOO_LONG)']);
    await client.closed;
    expect((await exchange(server.port, 'in ft 24'))[1]).toBe('2');
  });
});

describe('the converter process', () => {
  it('exits 2 with one line naming the flag on bad usage', async () => {
    const bad = await runConverter(['x', '--pair', 'ft:in']);
    expect(bad).toEqual({ code: 2, stdout: '', stderr: 'converter: --port must be a whole number from 0 to 65535, got "x"\n' });
    const wildcard = await runConverter(['0', '--pair', 'ft:in', '--host', '0.0.0.0']);
    expect(wildcard.code).toBe(2);
    expect(wildcard.stderr).toMatch(/^converter: --host is a wildcard; give --advertise <host>.*\n$/);
    expect((await runConverter(['0', '--pair', 'ft:in', '--nope'])).code).toBe(2);
  });

  it('exits 2 with the catalog sentence for a pair it cannot derive', async () => {
    const result = await runConverter(['0', '--pair', 'C:kg', '--no-register']);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      'converter: cannot serve C:kg: Cannot convert "C" (temperature) to "kg" (mass): no banana fact bridges temperature and mass. Give --factor F (1 C = F kg) to serve it anyway.\n',
    );
  });

  it('exits 1 with one line when the port is taken', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const address = taken.address();
    const port = address !== null && typeof address === 'object' ? address.port : 0;
    try {
      const result = await runConverter([String(port), '--pair', 'ft:in', '--no-register']);
      expect(result.code).toBe(1);
      expect(result.stderr).toBe(`converter: cannot listen: 127.0.0.1:${port} is already in use\n`);
    } finally {
      taken.close();
    }
  });

  it('prints help and exits 0 on --help', async () => {
    const result = await runConverter(['--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('converter [port] [unit1 unit2] [options]');
  });

  it('on SIGTERM stops accepting, finishes the request in flight and exits 0', async () => {
    const server = await converter('ft:in');
    const inFlight = await LineClient.connect(server.port);
    expect(await inFlight.nextLine()).toBe(GREETING);
    const persistent = await LineClient.connect(server.port);
    expect(await persistent.request('PERSIST', () => true).then(() => persistent.nextLine())).toBe('OK persistent');
    server.kill('SIGTERM');
    await waitFor(() => findLog(server.output(), 'info', 'shutdown') !== undefined, { what: 'the shutdown log line' });
    // The idle persistent client owes nothing and is let go; a new client is refused.
    await persistent.closed;
    await expect(openSocket(server.port)).rejects.toThrow(/ECONNREFUSED/);
    inFlight.send('in ft 36');
    expect(await inFlight.nextLine()).toBe('3');
    expect(await server.exited).toBe(0);
  });

  it('exits 0 on SIGINT too', async () => {
    const server = await converter('ft:in');
    expect(await server.stop('SIGINT')).toBe(0);
  });
});
