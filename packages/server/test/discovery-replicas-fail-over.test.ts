import { APP, exchange, freePort, startServer, stopAll } from '@conv/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { parseAddressList } from '@conv/protocol';
import { DiscoveryReplicas, createLogger } from '../src/index';

afterEach(stopAll);

describe('discovery replicas asked one request per connection', () => {
  it('sends to the first that answers, stays with it, and moves on when it stops answering', async () => {
    const lines: string[] = [];
    const log = createLogger({ name: 'converter', level: 'info', write: (line) => lines.push(line) });
    const dead = { host: '127.0.0.1', port: await freePort() };
    // Two live replicas with registries of their own: what a request changed shows where it went.
    const start = () => startServer(APP.discovery, ['0', '--db', ':memory:', '--check-interval', '0', '--trust-registrations'], { timeoutMs: 30_000 });
    const [first, second] = await Promise.all([start(), start()]);
    const replicas = new DiscoveryReplicas([dead, { host: '127.0.0.1', port: first.port }, { host: '127.0.0.1', port: second.port }], log);
    const add = (port: number) => replicas.request({ verb: 'ADD', units: ['ft', 'in'], endpoint: { host: '127.0.0.1', port } }, 5000);
    const registered = async (replica: { port: number }) =>
      (await exchange(replica.port, 'LIST')).filter((line) => line !== 'END').map((line) => Number(line.split(' ')[3]));

    // The dead one is skipped; the first live one answers, and every later request goes there too.
    for (const port of [1001, 1002, 1003]) await expect(add(port)).resolves.toEqual({ kind: 'success' });
    expect(await registered(first)).toEqual([1001, 1002, 1003]);
    expect(await registered(second)).toEqual([]);
    expect(replicas.current.port).toBe(first.port);

    // It stops answering: the next request goes to the other one, and stays there.
    first.kill('SIGKILL');
    await first.exited;
    for (const port of [2001, 2002]) await expect(add(port)).resolves.toEqual({ kind: 'success' });
    expect(await registered(second)).toEqual([2001, 2002]);
    expect(replicas.current.port).toBe(second.port);
    // The first comes back on its port: requests stay with the one that answers, not the first in the list.
    const back = await startServer(APP.discovery, ['--port', String(first.port), '--db', ':memory:', '--check-interval', '0', '--trust-registrations'], { timeoutMs: 30_000 });
    await expect(add(3001)).resolves.toEqual({ kind: 'success' });
    expect(await registered(second)).toEqual([2001, 2002, 3001]);
    expect(await registered(back)).toEqual([]);

    for (const replica of [second, back]) replica.kill('SIGKILL');
    await Promise.all([second.exited, back.exited]);
    // Every replica unreachable: the request fails, as with one address, and registration retries.
    await expect(replicas.request({ verb: 'PING' }, 2000)).rejects.toMatchObject({ code: 'DISCOVERY_UNREACHABLE' });
  }, 60_000);

  it('is read from a comma-separated list of addresses', () => {
    expect(parseAddressList('127.0.0.1:5555,[::1]:5557')).toEqual({ ok: true, value: [{ host: '127.0.0.1', port: 5555 }, { host: '::1', port: 5557 }] });
    expect(parseAddressList('127.0.0.1:5555,').ok).toBe(false);
  });
});
