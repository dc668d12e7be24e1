import { DiscoverySession, createLogger } from '@conv/server';
import { describeWithEtcd, exchange, stopAll, useEtcdServer, waitFor } from '@conv/testkit';
import { afterEach, expect, it } from 'vitest';
import { startDiscovery } from './helpers';

// Replies on one connection go out in order, so a LOOKUP pipelined behind an ADD waits for the
// ADD's reply, and an ADD waits for etcd. Here etcd is really slow: its only member is frozen
// (SIGSTOP). The client is the proxy's own (DiscoverySession, one persistent pipelined
// connection) with the proxy's wait for discovery, its default hop timeout of 1 s: it gives up
// on everything pending once one reply is that late. So the LOOKUP is answered at all only if
// the ADD in front of it stops holding it within that wait.
describeWithEtcd('a write waiting for etcd on a session', { timeout: 60_000 }, () => {
  const etcd = useEtcdServer();
  const sessions: DiscoverySession[] = [];
  afterEach(async () => {
    for (const session of sessions.splice(0)) session.close();
    etcd().thaw();
    await stopAll();
  });

  it('never holds the lookups pipelined behind it past the proxy wait: it is answered UNAVAILABLE (not confirmed), they are answered', async () => {
    const discovery = await startDiscovery(['--store', etcd().url, '--trust-registrations', '--check-interval', '0']);
    expect(await exchange(discovery.port, 'ADD x y 127.0.0.1 4001')).toEqual(['SUCCESS']);
    const session = new DiscoverySession({
      addresses: [{ host: '127.0.0.1', port: discovery.port }],
      timeoutMs: 1_000,
      log: createLogger({ name: 'proxy', level: 'error', write: () => undefined }),
    });
    sessions.push(session);
    session.start();
    await waitFor(() => session.isUp, { what: 'the session to discovery' });

    etcd().freeze();
    const [added, looked, again] = await Promise.all([
      session.request({ verb: 'ADD', units: ['x', 'y'], endpoint: { host: '127.0.0.1', port: 4002 } }),
      session.request({ verb: 'LOOKUP', units: ['x', 'y'] }),
      session.request({ verb: 'LOOKUP', units: ['y', 'x'] }),
    ]);
    expect(added).toMatchObject({ kind: 'failure', failure: { code: 'UNAVAILABLE' } });
    expect(added.kind === 'failure' ? added.failure.message : '').toContain('did not confirm this change within 500 ms');
    expect(looked).toEqual({ kind: 'endpoint', endpoint: { host: '127.0.0.1', port: 4001 } });
    expect(again).toEqual({ kind: 'endpoint', endpoint: { host: '127.0.0.1', port: 4001 } });

    // A course client's connection (no SESSION) has nothing it asked to pipeline: its ADD keeps
    // waiting for etcd's own answer, here the store's deadline (--etcd-timeout).
    expect(await exchange(discovery.port, 'ADD x y 127.0.0.1 4003', { timeoutMs: 20_000 })).toEqual([
      'FAILURE unavailable. The shared registry (etcd) is unreachable; nothing was changed. (UNAVAILABLE)',
    ]);
  });
});
