import { EtcdCluster, waitFor, describeWithEtcd } from '@conv/testkit';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { ReplicasUnderFaults } from './replicas-under-faults';

// Two discovery replicas (real processes, --store etcd://...) on a real three-member etcd
// cluster, under the faults a cluster is run to survive: a member killed (the leader, a
// follower, the one member replica A is given), a member frozen (SIGSTOP), members restarted
// on their data, a replica killed while the other takes writes. Throughout, both replicas
// answer lookups; after each fault every replica converges (10 s at most) on exactly what etcd
// holds, which keeps every acknowledged registration and no removed one.
describeWithEtcd('discovery replicas on a three-member etcd cluster', { timeout: 60_000 }, () => {
  let cluster: EtcdCluster;
  let system: ReplicasUnderFaults;

  beforeAll(async () => {
    cluster = await EtcdCluster.start({ members: 3 });
    // m1 is the one member replica A can reach; the leader starts elsewhere, so that killing
    // the leader and killing A's member are two different faults.
    await cluster.moveLeader(cluster.member('m2'));
    system = await ReplicasUnderFaults.start(cluster, ['--lease-ttl', '5s']);
  }, 90_000);

  afterAll(async () => {
    await system?.stop();
    await cluster?.destroy();
  });

  // A failed test leaves no fault behind for the next one.
  afterEach(async () => {
    for (const member of cluster.members) member.thaw();
    for (const member of cluster.members) if (!member.running) await member.restart();
    if (system.replicas.a === undefined) await system.startReplica('a');
  });

  /** Every replica given lists exactly etcd's registrations: every acknowledged one, no removed one; no lookup went unanswered. */
  function expectConverged(state: Awaited<ReturnType<ReplicasUnderFaults['converge']>>, replicas: readonly ('a' | 'b')[] = ['a', 'b']): void {
    for (const name of replicas) expect(state[name], `replica ${name}`).toEqual(state.etcd);
    expect(state.etcd).toEqual(expect.arrayContaining(state.acknowledged));
    for (const removed of state.removed) expect(state.etcd).not.toContain(removed);
    expect(system.unanswered).toEqual([]);
  }

  it('kill -9 the leader: lookups keep being answered, writes resume under a new leader, both replicas converge', async () => {
    const leader = await cluster.leader();
    expect(leader.name).not.toBe('m1');
    await leader.kill();
    await system.register(['kg', 'g']);
    await system.deregister(system.live(['ft', 'in'])[0]!);
    expectConverged(await system.converge());

    await leader.restart();
    await system.register(['lbs', 'oz']);
    expectConverged(await system.converge());
  });

  it('kill -9 a follower, then restart it on its data: nothing acknowledged is lost, both replicas converge', async () => {
    const leader = await cluster.leader();
    const follower = cluster.members.find((member) => member !== leader && member !== system.m1)!;
    await follower.kill();
    await system.register(['cm', 'm']);
    await system.deregister(system.live(['kg', 'g'])[0]!);
    expectConverged(await system.converge());

    await follower.restart();
    expectConverged(await system.converge());
  });

  it('kill -9 the member replica A depends on: A answers from memory and refuses writes, B keeps handing out every live converter, A catches up once it is back', async () => {
    if ((await cluster.leader()) === system.m1) await cluster.moveLeader(cluster.member('m2'));
    await system.m1.kill();
    const refused = await waitFor(async () => ((await system.ask('a', 'ADD ft in 127.0.0.1 9')).endsWith('(UNAVAILABLE)') ? true : undefined), {
      what: 'A to refuse writes while its member is down',
      timeoutMs: 10_000,
    });
    expect(refused).toBe(true);

    // Longer than a lease (5 s): only B's refreshes keep the converters registered.
    const since = system.reannounced.b;
    await waitFor(() => system.reannounced.b - since >= 8 * system.live().length, { what: 'eight rounds of re-announces through B', timeoutMs: 30_000 });
    for (const pair of [['ft', 'in'], ['kg', 'g'], ['lbs', 'oz'], ['cm', 'm']] as const) {
      const live = system.live(pair).map((c) => `127.0.0.1:${c.port}`).sort();
      expect(await system.handedOut('b', pair), pair.join(' ')).toEqual(live);
    }
    await system.register(['ft', 'in']);
    expectConverged(await system.converge(), ['b']);

    await system.m1.restart();
    expectConverged(await system.converge());
  });

  it('SIGSTOP a follower: lookups keep being answered, writes go on, both replicas converge, before and after it thaws', async () => {
    const leader = await cluster.leader();
    const frozen = cluster.members.find((member) => member !== leader && member !== system.m1)!;
    frozen.freeze();
    try {
      await system.register(['kg', 'g']);
      await system.deregister(system.live(['lbs', 'oz'])[0]!);
      expectConverged(await system.converge());
    } finally {
      frozen.thaw();
    }
    await system.register(['cm', 'm']);
    expectConverged(await system.converge());
  });

  it('SIGSTOP the leader for longer than a lease: writes resume under a new leader; when it thaws, etcd 3.4 revokes every lease (etcd #15247) and re-announces bring every converter back', async () => {
    const frozen = cluster.members.find((member) => member !== system.m1)!;
    await cluster.moveLeader(frozen);
    frozen.freeze();
    try {
      await system.register(['kg', 'g']);
      expectConverged(await system.converge());
      // Longer than a lease (5 s), kept alive through the new leader.
      const since = system.reannounced.a + system.reannounced.b;
      await waitFor(() => system.reannounced.a + system.reannounced.b - since >= 8 * system.live().length, { what: 'eight rounds of re-announces', timeoutMs: 30_000 });
    } finally {
      frozen.thaw();
    }
    // The thawed old leader may revoke the leases it saw expire while frozen, once it has
    // rejoined; lookups may fail until the next re-announce (one interval here, 5 s for real
    // converters), which registers every converter again.
    await cluster.leader();
    const state = await system.converge();
    system.unanswered.length = 0;
    expectConverged(state);
    await system.register(['cm', 'm']);
    expectConverged(await system.converge());
  });

  it('restarts all three members on their data after all were killed: every acknowledged registration is still there', async () => {
    const before = await system.converge();
    expectConverged(before);
    await Promise.all(cluster.members.map((member) => member.kill()));
    for (const member of cluster.members) member.launch();
    await Promise.all(cluster.members.map((member) => member.waitHealthy()));
    const after = await system.converge();
    expect(after.etcd).toEqual(before.etcd);
    expectConverged(after);
  });

  it('after replica A is killed while B takes writes and A restarts, both list exactly the acknowledged registrations within 10 s', async () => {
    await system.killReplica('a');
    await system.register(['lbs', 'oz']);
    await system.register(['ft', 'in']);
    await system.deregister(system.live(['cm', 'm'])[0]!);
    await system.startReplica('a');
    const state = await system.converge();
    expect(state.a).toEqual(state.acknowledged);
    expect(state.b).toEqual(state.acknowledged);
    expectConverged(state);
  });
});
