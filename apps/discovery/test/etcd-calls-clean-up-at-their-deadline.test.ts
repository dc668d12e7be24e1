import { unitPair } from '@conv/registry';
import { etcdMetric, describeWithEtcd, waitFor, useEtcdServer } from '@conv/testkit';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { ETCD_PREFIX, EtcdRegistryStore } from '../src/etcd-store';
import { type SilentEtcd, startSilentEtcd } from './silent-etcd';

// Every call to etcd has a deadline; when it passes, whatever the call started must not outlive
// it (issue 17, item 4): a keepalive stream that etcd never answers, a watch etcd creates late.

const FT_IN = unitPair('ft', 'in');
const stores: EtcdRegistryStore[] = [];
afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
});

describe('a lease keepalive that etcd never answers', () => {
  let silent: SilentEtcd | undefined;
  afterAll(async () => {
    await silent?.close();
  });

  it('fails the ADD at the deadline and closes its stream', async () => {
    const endpoint = { host: '127.0.0.1', port: 4001 };
    const value = JSON.stringify({ pair: FT_IN, endpoint, addedAt: 1, leaseMs: 5_000 });
    silent = await startSilentEtcd({ key: `${ETCD_PREFIX}127.0.0.1:4001`, value, lease: '42' });
    const store = new EtcdRegistryStore({ endpoints: [silent.endpoint], timeoutMs: 1_000 });
    stores.push(store);

    // The endpoint is registered for this pair with this lease: the put refreshes it with one keepalive.
    const refused = await store.put({ pair: FT_IN, endpoint, addedAt: 2, leaseMs: 5_000 }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(Error);
    expect((refused as Error).message).toMatch(/did not refresh the lease within 1000 ms/);
    expect(silent.keepalivesReceived).toBe(1);
    const server = silent;
    const closed = await waitFor(() => server.keepalivesOpen === 0, { what: 'the keepalive stream closed by the client', timeoutMs: 5_000 }).catch(() => false);
    expect(closed, `${server.keepalivesOpen} keepalive stream(s) left open after the deadline`).toBe(true);
  });
});

describeWithEtcd('a watch that etcd creates after its deadline', {}, () => {
  const etcdServer = useEtcdServer();

  it('is cancelled as soon as etcd answers: no watch nobody reads is left in etcd', async () => {
    const store = new EtcdRegistryStore({ endpoints: [etcdServer().endpoint], timeoutMs: 500 });
    stores.push(store);
    const { revision } = await store.load();
    const watchers = () => etcdMetric(etcdServer().endpoint, 'etcd_debugging_mvcc_watcher_total');
    expect(await watchers()).toBe(0);

    etcdServer().freeze();
    // SIGSTOP is sent, not yet proven: the watch is asked for only once etcd has stopped answering
    // (on a loaded machine, a watch asked for at once was once created, and the test saw no deadline).
    const answers = () => fetch(`http://${etcdServer().endpoint}/health`, { signal: AbortSignal.timeout(300) }).then(() => true, () => false);
    await waitFor(async () => !(await answers()), { what: 'etcd frozen: its /health no longer answers' });
    const late = await store.watch(revision + 1, { change: () => undefined, broken: () => undefined }).catch((error: unknown) => error);
    expect(late, 'the watch was created although etcd was frozen').toBeInstanceOf(Error);
    expect((late as Error).message).toMatch(/did not watch within 500 ms/);
    etcdServer().thaw();

    // etcd now creates the abandoned watch. A second one on the same client is created after
    // it (one at a time, in order), so once it exists the first was created too.
    const follow = await store.watch(revision + 1, { change: () => undefined, broken: () => undefined });
    const settled = await waitFor(async () => (await watchers()) === 1, { what: 'one watch left in etcd', timeoutMs: 5_000 }).catch(() => false);
    expect(settled, `etcd holds ${await watchers()} watches; only the one in use should be left`).toBe(true);
    await follow.close();
  });
});
