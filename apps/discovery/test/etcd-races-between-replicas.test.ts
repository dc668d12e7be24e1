import { APP, freePort, startServer, stopAll, waitFor, describeWithEtcd, useEtcdServer } from '@conv/testkit';
import { afterEach, expect, it } from 'vitest';
import { askOnce, FAST_CHECKS, list, startDiscovery } from './helpers';

// Races between two discovery replicas on one real etcd: the same endpoint added on both at
// once, a registration renewed through the replica that did not make it, and etcd missing at
// start. (Lost and in-flight writes across etcd crashes are in replicas-share-one-registry-in-etcd.)
describeWithEtcd('races between replicas on etcd', { timeout: 90_000 }, () => {
  const etcdServer = useEtcdServer();
  afterEach(async () => {
    await stopAll();
  });

  const replicas = (extra: readonly string[] = []) =>
    Promise.all([startDiscovery(['--store', etcdServer().url, '--trust-registrations', ...FAST_CHECKS, ...extra]), startDiscovery(['--store', etcdServer().url, '--trust-registrations', ...FAST_CHECKS, ...extra])]);

  it('two replicas adding one endpoint at once, each for its own pair: exactly one wins, and both replicas list the winner alone', async () => {
    const [a, b] = await replicas();
    const ports = Array.from({ length: 20 }, (_, i) => 41_000 + i);
    const replies = await Promise.all(
      ports.map((port) => Promise.all([askOnce(a.port, `ADD ft in 127.0.0.1 ${port}`), askOnce(b.port, `ADD kg g 127.0.0.1 ${port}`)])),
    );
    const winners = new Map<number, string>();
    replies.forEach(([fromA, fromB], i) => {
      const port = ports[i] as number;
      const won = [fromA[0] === 'SUCCESS' ? 'ft in' : undefined, fromB[0] === 'SUCCESS' ? 'g kg' : undefined].filter((pair) => pair !== undefined);
      // Exactly one acknowledged: the other was told the endpoint is taken.
      expect(won, `port ${port}: A ${fromA.join('|')} B ${fromB.join('|')}`).toHaveLength(1);
      expect([fromA[0], fromB[0]].find((line) => line !== 'SUCCESS')).toMatch(/^FAILURE .*\(ENTRY_EXISTS\)$/);
      winners.set(port, won[0] as string);
    });
    const expected = ports.map((port) => `${winners.get(port)} 127.0.0.1 ${port}`).sort();
    for (const replica of [a, b]) {
      await waitFor(async () => JSON.stringify((await list(replica.port)).map((line) => line.split(' ').slice(0, 4).join(' ')).sort()) === JSON.stringify(expected), {
        what: 'both replicas to list exactly the acknowledged registrations',
        timeoutMs: 10_000,
      });
    }
  });

  it('two replicas adding one endpoint for one pair at once: both acknowledge, one registration', async () => {
    const [a, b] = await replicas();
    const [fromA, fromB] = await Promise.all([askOnce(a.port, 'ADD ft in 127.0.0.1 42001'), askOnce(b.port, 'ADD in ft 127.0.0.1 42001')]);
    expect([fromA, fromB]).toEqual([['SUCCESS'], ['SUCCESS']]);
    for (const replica of [a, b]) {
      await waitFor(async () => (await list(replica.port)).filter((line) => line.includes(' 42001 ')).length === 1, { what: 'one registration on each replica', timeoutMs: 10_000 });
      expect((await list(replica.port)).filter((line) => line.includes(' 42001 '))).toEqual([expect.stringMatching(/^ft in 127\.0\.0\.1 42001 /)]);
    }
  });

  it('keeps a registration made on one replica alive while it is renewed through the other, and lets it lapse once renewals stop', async () => {
    const [a, b] = await replicas();
    expect(await askOnce(a.port, 'ADD ft in 127.0.0.1 42002 lease=2s')).toEqual(['SUCCESS']);
    // Renewed through B only, for three leases' worth: it never leaves either replica.
    const until = Date.now() + 6_000;
    while (Date.now() < until) {
      expect(await askOnce(b.port, 'ADD ft in 127.0.0.1 42002 lease=2s')).toEqual(['SUCCESS']);
      for (const replica of [a, b]) expect((await list(replica.port)).some((line) => line.startsWith('ft in 127.0.0.1 42002 '))).toBe(true);
    }
    // Renewals stop: the lease lapses and both replicas drop it.
    for (const replica of [a, b]) {
      await waitFor(async () => !(await list(replica.port)).some((line) => line.startsWith('ft in 127.0.0.1 42002 ')), {
        what: 'the registration to lapse once renewals stopped',
        timeoutMs: 20_000,
      });
    }
  });

  it('exits with a clear error when etcd cannot be reached at start', async () => {
    const nowhere = await freePort();
    const started = startServer(APP.discovery, ['0', '--store', `etcd://127.0.0.1:${nowhere}`, '--etcd-timeout', '1s'], { timeoutMs: 60_000 });
    const failure = await started.then(
      () => undefined,
      (error: unknown) => (error instanceof Error ? error.message : String(error)),
    );
    expect(failure).toMatch(/exited \(1\) before its banner/);
    expect(failure).toContain(`127.0.0.1:${nowhere}`);
    expect(failure).toMatch(/etcd/i);
  });
});
