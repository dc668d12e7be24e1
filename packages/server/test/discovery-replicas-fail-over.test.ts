import { APP, freePort, startServer, stopAll } from '@conv/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { parseAddressList } from '@conv/protocol';
import { DiscoveryReplicas, createLogger } from '../src/index';

afterEach(stopAll);

describe('discovery replicas asked one request per connection', () => {
  it('sends to the first that answers, stays with it, and moves on when it stops answering', async () => {
    const lines: string[] = [];
    const log = createLogger({ name: 'converter', level: 'info', write: (line) => lines.push(line) });
    const dead = { host: '127.0.0.1', port: await freePort() };
    const live = await startServer(APP.discovery, ['0', '--db', ':memory:', '--check-interval', '0']);
    const replicas = new DiscoveryReplicas([dead, { host: '127.0.0.1', port: live.port }], log);

    await expect(replicas.request({ verb: 'PING' }, 2000)).resolves.toEqual({ kind: 'pong' });
    expect(replicas.current.port).toBe(live.port);
    expect(lines.some((line) => line.includes('"msg":"discovery-failover"'))).toBe(true);
    await expect(replicas.request({ verb: 'PING' }, 2000)).resolves.toEqual({ kind: 'pong' });

    live.kill('SIGKILL');
    await live.exited;
    // Every replica unreachable: the request fails, as with one address, and registration retries.
    await expect(replicas.request({ verb: 'PING' }, 2000)).rejects.toMatchObject({ code: 'DISCOVERY_UNREACHABLE' });
  });

  it('is read from a comma-separated list of addresses', () => {
    expect(parseAddressList('127.0.0.1:5555,[::1]:5557')).toEqual({ ok: true, value: [{ host: '127.0.0.1', port: 5555 }, { host: '::1', port: 5557 }] });
    expect(parseAddressList('127.0.0.1:5555,').ok).toBe(false);
  });
});
