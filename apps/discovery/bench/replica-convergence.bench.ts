// pnpm --filter discovery bench (third part): how long two discovery replicas on a three-member
// etcd cluster take to agree again after a fault. Replica A reaches etcd through m1 only, B
// through all three members. Each round: a fault, then one ADD acknowledged through B, then the
// time until every replica lists it (for a restarted replica: lists exactly what B lists).
// Needs Debian's etcd on PATH; skips without it. BENCH_ROUNDS sets the rounds per fault (5).
import { APP, ETCD_TIMING, EtcdCluster, type EtcdMember, LineClient, type ServerProcess, etcdPresence, startServer, stopAll } from '@conv/testkit';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const TARGET_MS = 2_000;
const log = (text: string) => process.stdout.write(`${text}\n`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function ask(port: number, line: string): Promise<string[]> {
  const client = await LineClient.connect(port);
  try {
    client.send(line);
    const lines: string[] = [];
    for (;;) {
      const next = await client.nextLine(5_000);
      if (line !== 'LIST') return [next];
      if (next === 'END') return lines;
      lines.push(next.split(' ').slice(0, 4).join(' '));
    }
  } finally {
    client.close();
  }
}

const list = async (replica: ServerProcess) => (await ask(replica.port, 'LIST').catch(() => ['unreachable'])).sort().join('\n');

/** Polls every 5 ms until `probe` holds; returns when it first did. */
async function until(probe: () => Promise<boolean>, what: string, timeoutMs = 30_000): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (await probe()) return performance.now();
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

let port = 20_000;
/** ADD through `replica` until acknowledged (the cluster may be electing): the registration as LIST shows it, and when. */
async function addThrough(replica: ServerProcess): Promise<{ line: string; acknowledged: number }> {
  const line = `ft in 127.0.0.1 ${++port}`;
  const acknowledged = await until(async () => (await ask(replica.port, `ADD ${line}`).catch(() => ['']))[0] === 'SUCCESS', `the ADD of ${line}`);
  return { line, acknowledged };
}

/** The member the running members (not `gone`) agree leads, once they do. */
async function newLeader(cluster: EtcdCluster, gone: EtcdMember): Promise<EtcdMember | undefined> {
  const running = cluster.members.filter((member) => member !== gone && member.running);
  const statuses = await Promise.all(running.map((member) => member.status()));
  const leader = statuses[0]?.leader;
  if (leader === undefined || statuses.some((status) => status?.leader !== leader)) return undefined;
  return running[statuses.findIndex((status) => status?.id === leader)];
}

const startReplica = (store: string) =>
  startServer(APP.discovery, ['0', '--store', store, '--trust-registrations', '--check-interval', '0', '--lease-ttl', '10m', '--log-level', 'warn']);

async function main(): Promise<void> {
  if (etcdPresence() !== 'present') {
    log('SKIPPED replica-convergence: no `etcd` on PATH (apt-get install -y --no-install-recommends etcd-server)');
    return;
  }
  const cluster = await EtcdCluster.start({ members: 3 });
  const m1 = cluster.member('m1');
  const replicas = { a: await startReplica(cluster.url([m1])), b: await startReplica(cluster.url()) };
  const figures = new Map<string, number[]>();
  const record = (fault: string, ms: number) => figures.set(fault, [...(figures.get(fault) ?? []), ms]);
  const everywhere = (line: string) => async () => (await list(replicas.a)).includes(line) && (await list(replicas.b)).includes(line);
  try {
    for (let round = 0; round < ROUNDS; round++) {
      log(`round ${round + 1} of ${ROUNDS}...`);
      if ((await cluster.leader()) === m1) await cluster.moveLeader(cluster.member('m2'));

      // A follower (not m1): B's calls or its watch may have been on it.
      const leader = await cluster.leader();
      const follower = cluster.members.find((m) => m !== leader && m !== m1) as EtcdMember;
      let start = performance.now();
      await follower.kill();
      let { line } = await addThrough(replicas.b);
      record('follower killed: kill -> an ADD through B listed by both', (await until(everywhere(line), 'both replicas')) - start);
      await follower.restart();

      // The leader (not m1): writes wait for a new leader (after the election timeout, randomised up to twice it).
      const oldLeader = await cluster.leader();
      start = performance.now();
      await oldLeader.kill();
      // Where the time goes: etcd electing a leader, then our ADD getting through, then the replicas.
      const elected = until(async () => (await newLeader(cluster, oldLeader)) !== undefined, 'a new etcd leader');
      const added = await addThrough(replicas.b);
      const seen = await until(everywhere(added.line), 'both replicas');
      const leaderAt = await elected;
      record('leader killed: kill -> an ADD through B listed by both (election included)', seen - start);
      record('leader killed: kill -> the other members agree on a new leader (etcd alone)', leaderAt - start);
      record('leader killed: new leader -> the ADD through B acknowledged', added.acknowledged - leaderAt);
      record('leader killed: that ADD acknowledged -> listed by both', seen - added.acknowledged);
      await oldLeader.restart();

      // m1, the only member A reaches: A is cut off, then catches up once m1 is back.
      await m1.kill();
      ({ line } = await addThrough(replicas.b));
      await m1.restart();
      start = performance.now();
      record('member A depends on back: healthy -> A lists the ADD made meanwhile', (await until(everywhere(line), 'replica A')) - start);

      // Replica A killed while B takes a write, then restarted.
      replicas.a.kill('SIGKILL');
      await replicas.a.exited;
      ({ line } = await addThrough(replicas.b));
      start = performance.now();
      replicas.a = await startReplica(cluster.url([m1]));
      const b = await list(replicas.b);
      record('replica A restarted: spawn -> lists exactly what B lists', (await until(async () => (await list(replicas.a)) === b, 'replica A')) - start);
    }
  } finally {
    await stopAll();
    await cluster.destroy();
  }
  log('');
  log(`node ${process.version}, etcd 3-member cluster on loopback (heartbeat ${ETCD_TIMING.heartbeatMs} ms, election timeout ${ETCD_TIMING.electionMs} ms), ${ROUNDS} rounds, polled every 5 ms`);
  log('| after | median | max | target |');
  log('|---|---|---|---|');
  for (const [fault, times] of figures) {
    const sorted = [...times].sort((x, y) => x - y);
    const median = sorted[Math.floor(sorted.length / 2)] ?? 0;
    const max = sorted[sorted.length - 1] ?? 0;
    const verdict = max < TARGET_MS ? 'met' : median < TARGET_MS ? 'median met' : 'missed';
    log(`| ${fault} | ${(median / 1000).toFixed(2)} s | ${(max / 1000).toFixed(2)} s | < ${TARGET_MS / 1000} s (${verdict}) |`);
  }
}

main().catch(async (error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.message : String(error)}\n`);
  await stopAll();
  process.exitCode = 1;
});
