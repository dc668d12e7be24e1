import { unitPair } from '@conv/registry';
import { EtcdCluster, describeWithEtcd, waitFor } from '@conv/testkit';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { ETCD_PREFIX, EtcdRegistryStore } from '../src/etcd-store';

// The etcd store on a three-member cluster, member faults one at a time: what the client does
// when a member dies, freezes, or the cluster elects a new leader. Deadlines here are the
// store's own (2 s a call); the waits poll with their own.
const FT_IN = unitPair('ft', 'in');

describeWithEtcd('the etcd store on a three-member cluster', { timeout: 60_000 }, () => {
  let cluster: EtcdCluster;
  const stores: EtcdRegistryStore[] = [];
  let namespace = 0;
  const open = (members = cluster.members) => {
    const store = new EtcdRegistryStore({
      endpoints: members.map((member) => member.endpoint),
      timeoutMs: 2_000,
      prefix: `${ETCD_PREFIX}faults-${++namespace}/`,
    });
    stores.push(store);
    return store;
  };

  beforeAll(async () => {
    cluster = await EtcdCluster.start({ members: 3 });
  }, 60_000);
  afterAll(async () => {
    await cluster?.destroy();
  });
  afterEach(async () => {
    for (const store of stores.splice(0)) await store.close();
    for (const member of cluster.members) member.thaw();
    for (const member of cluster.members) if (!member.running) await member.restart();
  });

  it('takes a write as soon as the cluster has a new leader after the leader is killed: no member is shut out for seconds', async () => {
    const store = open();
    await store.put({ pair: FT_IN, endpoint: { host: '127.0.0.1', port: 4000 }, addedAt: 1 });
    const leader = await cluster.leader();
    await leader.kill();
    // Writes fail while the others elect a leader; keep trying, as converters re-announce.
    let port = 4001;
    let failed = 0;
    const survivor = cluster.members.find((member) => member.running)!;
    await waitFor(
      async () => {
        if ((await survivor.status()) !== undefined) return true;
        await store.put({ pair: FT_IN, endpoint: { host: '127.0.0.1', port: port++ }, addedAt: 1 }).catch(() => failed++);
        return false;
      },
      { what: 'a new leader', timeoutMs: 20_000, intervalMs: 10 },
    );
    await cluster.leader();
    const outcome = await store.put({ pair: FT_IN, endpoint: { host: '127.0.0.1', port: 5000 }, addedAt: 1 }).catch((error: unknown) => error);
    expect(outcome, `the first write after the election (${failed} failed during it)`).toMatchObject({ outcome: 'created' });
  });

  it('takes every write while a follower is frozen: an attempt on it times out and another member answers within the deadline', async () => {
    const store = open();
    const leader = await cluster.leader();
    const frozen = cluster.members.find((member) => member !== leader)!;
    frozen.freeze();
    const outcomes: string[] = [];
    for (let port = 4001; port <= 4012; port++) {
      const outcome = await store.put({ pair: FT_IN, endpoint: { host: '127.0.0.1', port }, addedAt: 1 }).then(
        (result) => result.outcome,
        (error: unknown) => (error instanceof Error ? error.message : String(error)),
      );
      outcomes.push(outcome);
    }
    expect(outcomes).toEqual(Array.from({ length: 12 }, () => 'created'));
  });

  it('reports a watch on a member that freezes as broken within seconds, so that the replica catches up elsewhere', async () => {
    const member = cluster.members.find((m) => m.running)!;
    const store = open([member]);
    const broken: Error[] = [];
    const { revision } = await store.load();
    await store.watch(revision + 1, { change: () => undefined, broken: (error) => broken.push(error) });
    member.freeze();
    // A frozen member closes nothing and answers nothing: only the client's pings can tell.
    const noticed = await waitFor(() => broken.length > 0, { what: 'the watch reported broken', timeoutMs: 15_000 }).catch(() => false);
    expect(noticed, 'a watch on a frozen member never reported broken').toBe(true);
  });
});
