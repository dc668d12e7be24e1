import { APP, type FakeConverter, type ServerProcess, describeWithEtcd, startFakeConverter, startServer, stopAll, useEtcdServer, waitFor } from '@conv/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { FAST_CHECKS, askOnce, list, startDiscovery } from './helpers';

// With --store etcd, a registration asked with lease= holds an etcd lease of that length, and
// one without has none: a course server that sends one ADD stays until removed (or probed down).
describeWithEtcd('leases in the etcd store', {}, () => {
  const etcdServer = useEtcdServer();
  const converters: FakeConverter[] = [];
  afterEach(async () => {
    await stopAll();
    for (const converter of converters.splice(0)) await converter.close();
  });

  async function fakeConverter(): Promise<FakeConverter> {
    const converter = await startFakeConverter({ units: ['ft', 'in'], factor: 12 });
    converters.push(converter);
    return converter;
  }

  /** The LIST line of the endpoint on `port`, from its health on: `up`, `up lease=3s`. */
  async function listed(discovery: ServerProcess, port: number): Promise<string | undefined> {
    const line = (await list(discovery.port)).find((l) => l.split(' ')[3] === String(port));
    return line?.split(' ').slice(4).join(' ');
  }

  describe('registrations in etcd', { timeout: 60_000 }, () => {
    it('keeps a course ADD without lease past the old --lease-ttl, while a leased one nobody renews ends', async () => {
      // --lease-ttl is still accepted; before leases, every registration expired after it.
      const discovery = await startDiscovery(['--store', etcdServer().url, ...FAST_CHECKS, '--lease-ttl', '1s']);
      const course = await fakeConverter();
      const leased = await fakeConverter();
      expect(await askOnce(discovery.port, `ADD ft in 127.0.0.1 ${course.port}`)).toEqual(['SUCCESS']);
      expect(await askOnce(discovery.port, `ADD ft in 127.0.0.1 ${leased.port} lease=3s`)).toEqual(['SUCCESS']);
      await waitFor(async () => (await listed(discovery, course.port)) === 'up', { what: 'the course registration up, no lease' });
      await waitFor(async () => (await listed(discovery, leased.port)) === 'up lease=3s', { what: 'the leased registration up' });
      // The leased one is gone when its 3 s etcd lease ends: longer than the old 1 s TTL (2 s, etcd's least).
      await waitFor(async () => (await listed(discovery, leased.port)) === undefined, { what: 'the unrenewed lease to end in etcd', timeoutMs: 20_000 });
      expect(await listed(discovery, course.port)).toBe('up');
      // And etcd has it: a replica started now loads it.
      const fresh = await startDiscovery(['--store', etcdServer().url, ...FAST_CHECKS]);
      await waitFor(async () => (await listed(fresh, course.port)) === 'up', { what: 'a fresh replica to load the course registration from etcd' });
      await askOnce(discovery.port, `REMOVE 127.0.0.1 ${course.port}`, { localAddress: '127.0.0.1' });
    });

    it('ends a heartbeating converter\'s registration in etcd when its heartbeats stop (SIGKILL)', async () => {
      const discovery = await startDiscovery(['--store', etcdServer().url, ...FAST_CHECKS]);
      const converter = await startServer(APP.converter, ['0', '--pair', 'ft:in', '--discovery', `127.0.0.1:${discovery.port}`, '--lease', '2s', '--heartbeat-interval', '300ms']);
      await waitFor(async () => (await listed(discovery, converter.port)) === 'up lease=2s', { what: 'the converter up with its lease', timeoutMs: 20_000 });
      converter.kill('SIGKILL');
      await converter.exited;
      await waitFor(async () => (await listed(discovery, converter.port)) === undefined, { what: 'the registration gone with its etcd lease', timeoutMs: 20_000 });
    });
  });
});
