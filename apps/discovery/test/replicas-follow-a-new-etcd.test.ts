import { EtcdCluster, describeWithEtcd } from '@conv/testkit';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ReplicasUnderFaults } from './replicas-under-faults';

// etcd lost and replaced by a new, empty one at the same address (a member rebuilt without its
// data): its revisions start over, below everything the replicas have seen. They must take the
// new etcd for the truth (reload, forget old revisions), not wait for revisions they already
// passed, and the converters' re-announces register every live converter again.

describeWithEtcd('replicas whose etcd is replaced by a new, empty one', { timeout: 60_000 }, () => {
  let cluster: EtcdCluster;
  let system: ReplicasUnderFaults;

  beforeAll(async () => {
    cluster = await EtcdCluster.start({ members: 1 });
    system = await ReplicasUnderFaults.start(cluster, ['--lease-ttl', '5s']);
  }, 60_000);

  afterAll(async () => {
    await system?.stop();
    await cluster?.destroy();
  });

  it('reload from it, take every converter again as it re-announces, and follow it from then on', async () => {
    const before = await system.converge();
    expect(before.a).toEqual(before.etcd);
    const [member] = cluster.members;
    await member!.replaceWithEmpty();

    // Between the reload (nothing) and the re-announces and their admission probes, lookups find
    // nothing: not judged here.
    const after = await system.converge();
    await system.answering();
    system.unanswered.length = 0;
    expect(after.etcd).toEqual(before.etcd);
    expect(after.a).toEqual(after.etcd);
    expect(after.b).toEqual(after.etcd);

    // Revisions started over: changes from now on, far below the old ones, are applied.
    await system.register(['cm', 'm']);
    await system.deregister(system.live(['ft', 'in'])[0]!);
    const followed = await system.converge();
    expect(followed.a).toEqual(followed.etcd);
    expect(followed.b).toEqual(followed.etcd);
    expect(followed.etcd).toEqual(followed.acknowledged);
    expect(system.unanswered).toEqual([]);
  });
});
