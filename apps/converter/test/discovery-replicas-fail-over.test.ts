import { APP, startServer, stopAll } from '@conv/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { validateConfig } from '../src/config';
import { DiscoveryReplicas } from '../src/discovery-client';
import { createLogger } from '@conv/observability';
import { freePort } from './harness';

afterEach(stopAll);

describe('--discovery with several replicas', () => {
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

  it('is configured from a comma-separated --discovery', () => {
    expect(validateConfig({ port: '0', pair: 'ft:in', discovery: '127.0.0.1:5555,[::1]:5557' }).discovery).toEqual([
      { host: '127.0.0.1', port: 5555 },
      { host: '::1', port: 5557 },
    ]);
    expect(() => validateConfig({ port: '0', pair: 'ft:in', discovery: '127.0.0.1:5555,' })).toThrow(/--discovery must be <host>:<port> or a comma-separated list/);
  });
});
