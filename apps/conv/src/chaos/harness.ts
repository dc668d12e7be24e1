import { type WriteStream, createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Endpoint } from '@conv/protocol';
import { askDiscovery } from '@conv/server';
import { type ConverterFaultContext, LIAR_PAIRS, drainReplica, plantLiar } from './converter-faults';
import { ChaosEtcdCluster } from './etcd-cluster';
import { type Fault, describeFault, planFaults, replicaName } from './fault-plan';
import { startLoad } from './load';
import { type ProxyEventCounts, countProxyEvent } from './log-events';
import { type ChaosReport, percentile } from './report';
import { ServerProcess, sleep } from './server-process';

/** The four-hop route of the run: lbs -> b -> in -> cm -> m, and its pairs. */
export const CHAOS_UNITS = ['lbs', 'b', 'in', 'cm', 'm'] as const;
export const CHAOS_PAIRS = CHAOS_UNITS.slice(1).map((unit, i) => `${CHAOS_UNITS[i] ?? ''}:${unit}`);
export const REPLICAS = 3;

const HOST = '127.0.0.1';

export type ChaosOptions = {
  readonly durationMs: number;
  readonly seed: number;
  readonly clients: number;
  /** Built entry points of the apps under test. */
  readonly apps: { readonly discovery: string; readonly converter: string; readonly proxy: string };
  /** Registry file and one log per process go here. */
  readonly workDir: string;
  readonly say: (line: string) => void;
  readonly progressEveryMs?: number;
  /** How long the registry may take to settle after the faults stop. */
  readonly settleTimeoutMs?: number;
  /** A client gives up on one request after this long (and counts it failed). */
  readonly requestTimeoutMs?: number;
  /** Extra proxy flags (e.g. a different --hop-timeout). */
  readonly proxyArgs?: readonly string[];
  /** The whole run, setup and teardown included, is cut off after this long. */
  readonly hardTimeoutMs?: number;
  /**
   * 0 (default): one discovery server on a SQLite file. 3 (or 5): an etcd cluster of that many
   * members under two discovery replicas, with etcd member kills in the fault plan.
   */
  readonly etcdMembers?: 0 | 3 | 5;
};

type Replica = { readonly pair: string; readonly index: number; readonly server: ServerProcess };

type Counters = {
  converterKills: number;
  discoveryKills: number;
  etcdKills: number;
  restarts: number;
  restartRetries: number;
  stops: number;
  lies: number;
  drains: number;
  skippedFaults: number;
};

/**
 * Starts discovery (a registry file, short check interval), three replicas of each pair of the
 * route and the proxy, all on loopback port 0; drives `clients` closed-loop course clients
 * through the proxy while the seeded fault plan kills, stops and restarts processes; then stops
 * the load, lets the registry settle and checks: no failed request, no wrong answer, the
 * registry holds exactly the live replicas, all up. Every process it started is gone when it returns.
 */
export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const { say, workDir } = options;
  mkdirSync(workDir, { recursive: true });
  const logs: WriteStream[] = [];
  const logFor = (name: string) => {
    const log = createWriteStream(join(workDir, `${name.replace(/[^A-Za-z0-9.-]+/g, '-')}.log`), { flags: 'a' });
    logs.push(log);
    return log;
  };
  const proxyEvents: ProxyEventCounts = { failovers: 0, retries: 0 };
  const counters: Counters = { converterKills: 0, discoveryKills: 0, etcdKills: 0, restarts: 0, restartRetries: 0, stops: 0, lies: 0, drains: 0, skippedFaults: 0 };
  // Replicas lying or drained right now: running, but out of service as the plan counts it.
  const outOfService = new Set<ServerProcess>();
  const problems: string[] = [];
  let closed = false;

  const etcdMembers = options.etcdMembers ?? 0;
  let etcd: ChaosEtcdCluster | undefined;
  // On etcd, two replicas share the registry: every client is given both and fails over.
  const discoveries = Array.from({ length: etcdMembers > 0 ? 2 : 1 }, (_, i) => {
    const name = i === 0 ? 'discovery' : `discovery #${i + 1}`;
    return new ServerProcess({
      name,
      script: options.apps.discovery,
      log: logFor(name),
      args: (port) => [
        '--port', String(port), '--host', HOST, '--check-interval', '250ms',
        ...(etcd ? ['--store', etcd.url] : ['--db', join(workDir, 'registry.db')]),
      ],
    });
  });
  const discoveryList = () => discoveries.map((d) => `${HOST}:${d.port}`).join(',');
  const replicas: Replica[] = CHAOS_PAIRS.flatMap((pair) =>
    Array.from({ length: REPLICAS }, (_, index): Replica => {
      const name = `converter ${replicaName({ pair, replica: index })}`;
      return {
        pair,
        index,
        server: new ServerProcess({
          name,
          script: options.apps.converter,
          log: logFor(name),
          args: (port) => ['--port', String(port), '--pair', pair, '--host', HOST, '--discovery', discoveryList()],
        }),
      };
    }),
  );
  const proxy = new ServerProcess({
    name: 'proxy',
    script: options.apps.proxy,
    log: logFor('proxy'),
    args: (port) => ['--port', String(port), '--host', HOST, '--discovery', discoveryList(), ...(options.proxyArgs ?? [])],
    onStderrLine: (line) => countProxyEvent(proxyEvents, line),
  });
  const everything = [...discoveries, ...replicas.map((r) => r.server), proxy];

  let load: ReturnType<typeof startLoad> | undefined;
  let registry: ChaosReport['registry'] = { live: 0, missing: [], notUp: [], unexpected: [] };
  let progress: NodeJS.Timeout | undefined;
  let hardTimer: NodeJS.Timeout | undefined;

  const main = async (): Promise<void> => {
    if (etcdMembers !== 0) etcd = await ChaosEtcdCluster.start(etcdMembers, join(workDir, 'etcd'), logFor('etcd'));
    for (const replica of discoveries) await replica.start();
    await Promise.all(replicas.map((r) => r.server.start()));
    await proxy.start();
    say(`chaos: discovery ${discoveryList()}${etcd ? ` on ${etcd.url}` : ''}, proxy ${HOST}:${proxy.port}, ${replicas.length} converters (${CHAOS_PAIRS.join(', ')} x ${REPLICAS}); logs in ${workDir}`);
    const ready = await settleAll(discoveries, replicas, options.settleTimeoutMs ?? 20_000);
    if (!ready.ok) throw new Error(`the system did not come up: ${describeRegistry(ready)}`);

    const plan = planFaults({
      seed: options.seed,
      durationMs: options.durationMs,
      pairs: CHAOS_PAIRS,
      replicas: REPLICAS,
      discoveryReplicas: discoveries.length,
      etcdMembers,
      liarPairs: LIAR_PAIRS,
    });
    say(`chaos: ${options.durationMs / 1000} s, seed ${options.seed}, ${options.clients} clients, ${plan.length} faults planned`);
    const started = Date.now();
    load = startLoad({
      proxy: () => ({ host: HOST, port: proxy.port }),
      units: CHAOS_UNITS,
      clients: options.clients,
      seed: options.seed,
      timeoutMs: options.requestTimeoutMs ?? 10_000,
    });
    const stats = load.stats;
    progress = setInterval(() => {
      const faulted = [...discoveries, ...replicas.map((r) => r.server)].filter((s) => s.state !== 'up').map((s) => `${s.name} ${s.state}`);
      say(
        `chaos ${((Date.now() - started) / 1000).toFixed(0)}s: ${stats.requests} requests, ${stats.failures} failed, ${stats.wrong} wrong; ` +
          `${counters.converterKills + counters.discoveryKills + counters.etcdKills} kills, ${counters.stops} stops, ${counters.lies} liars, ${counters.drains} drains, ${proxyEvents.failovers} failovers; now: ${faulted.length > 0 ? faulted.join(', ') : 'no fault'}`,
      );
    }, options.progressEveryMs ?? 5000);

    const tasks = plan.map(async (fault) => {
      await sleep(Math.max(0, started + fault.atMs - Date.now()));
      if (closed) return;
      try {
        await inject(fault);
      } catch (error) {
        problems.push(`fault "${describeFault(fault)}" could not be carried out: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
      }
    });
    await sleep(Math.max(0, started + options.durationMs - Date.now()));
    await load.stop();
    clearInterval(progress);
    await Promise.all(tasks);
    for (const server of everything) server.resume();
    const down = everything.filter((s) => s.state !== 'up').map((s) => s.name);
    if (down.length > 0) problems.push(`not running after the faults: ${down.join(', ')}`);

    if (etcd) for (let i = 0; i < etcd.size; i++) if (!etcd.isUp(i)) problems.push(`etcd member m${i + 1} not running after the faults`);
    const settled = await settleAll(discoveries, replicas, options.settleTimeoutMs ?? 20_000);
    registry = settled;
    if (!settled.ok) problems.push(`the registry did not settle to exactly the live replicas: ${describeRegistry(settled)}`);
  };

  const retrying = (server: ServerProcess) => (error: Error) =>
    say(`chaos: restarting ${server.name} on port ${server.port} failed, trying again: ${error.message.replace(/\s+/g, ' ').slice(0, 200)}`);

  const faultContext: ConverterFaultContext = {
    discoveries: () => discoveries.filter((d) => d.state === 'up').map((d) => ({ host: HOST, port: d.port })),
    allDiscoveriesUp: () => discoveries.every((d) => d.state === 'up'),
    closed: () => closed,
    onRetry: retrying,
  };

  const inject = async (fault: Fault): Promise<void> => {
    if (fault.kind === 'kill-discovery') {
      const replica = discoveries[fault.replica];
      // A restart slower than the plan allowed for is still under way: never kill it mid-start,
      // and never leave the converters and the proxy without any discovery replica.
      if (replica === undefined || replica.state !== 'up' || discoveries.some((d) => d !== replica && d.state !== 'up')) {
        counters.skippedFaults++;
        return;
      }
      await replica.kill();
      counters.discoveryKills++;
      await sleep(fault.downMs);
      if (closed) return;
      counters.restartRetries += await replica.start(5, retrying(replica));
      counters.restarts++;
      return;
    }
    if (fault.kind === 'kill-etcd-member') {
      const cluster = etcd;
      // Kill one member only while all are up: the others keep a quorum.
      if (cluster === undefined || Array.from({ length: cluster.size }, (_, i) => cluster.isUp(i)).some((up) => !up)) {
        counters.skippedFaults++;
        return;
      }
      await cluster.killMember(fault.member);
      counters.etcdKills++;
      await sleep(fault.downMs);
      if (closed) return;
      await cluster.startMember(fault.member);
      counters.restarts++;
      return;
    }
    const target = replicas.find((r) => r.pair === fault.target.pair && r.index === fault.target.replica);
    if (!target) throw new Error(`no replica ${replicaName(fault.target)}`);
    // The plan keeps one replica of each pair in service; a restart slower than planned could break
    // that (or still be under way), so check the processes themselves.
    const othersOut = replicas.filter((r) => r.pair === target.pair && r !== target && (r.server.state !== 'up' || outOfService.has(r.server))).length;
    if (target.server.state !== 'up' || outOfService.has(target.server) || othersOut >= REPLICAS - 1) {
      counters.skippedFaults++;
      return;
    }
    if (fault.kind === 'lie-converter' || fault.kind === 'drain-converter') {
      outOfService.add(target.server);
      try {
        const outcome = fault.kind === 'lie-converter' ? await plantLiar(target.server, HOST, fault, faultContext) : await drainReplica(target.server, HOST, faultContext);
        if (outcome.kind === 'skipped') counters.skippedFaults++;
        else if (fault.kind === 'lie-converter') {
          counters.lies++;
          counters.restartRetries += outcome.restartRetries;
        } else {
          counters.drains++;
          await sleep(fault.drainedMs);
        }
      } finally {
        outOfService.delete(target.server);
      }
      return;
    }
    if (fault.kind === 'kill-converter') {
      await target.server.kill();
      counters.converterKills++;
      await sleep(fault.downMs);
      if (closed) return;
      counters.restartRetries += await target.server.start(5, retrying(target.server));
      counters.restarts++;
    } else {
      target.server.pause();
      counters.stops++;
      await sleep(fault.stoppedMs);
      target.server.resume();
    }
  };

  const hardTimeoutMs = options.hardTimeoutMs ?? options.durationMs + 180_000;
  const cutOff = new Promise<void>((resolve) => {
    hardTimer = setTimeout(() => {
      problems.push(`the run was cut off after ${hardTimeoutMs} ms`);
      resolve();
    }, hardTimeoutMs);
  });
  try {
    await Promise.race([main(), cutOff]);
  } catch (error) {
    problems.push(error instanceof Error ? error.message : String(error));
  } finally {
    closed = true;
    clearTimeout(hardTimer);
    clearInterval(progress);
    // Converters first (they deregister), then the proxy, then discovery; SIGKILL whatever lingers.
    await Promise.all(replicas.map((r) => r.server.shutdown(5000)));
    await proxy.shutdown(5000);
    await Promise.all(discoveries.map((d) => d.shutdown(5000)));
    await etcd?.stop();
    await Promise.all(logs.map((log) => new Promise((resolve) => log.end(resolve))));
  }

  const stats = load?.stats ?? { requests: 0, failures: 0, wrong: 0, latenciesMs: [], samples: [] };
  if (stats.requests === 0) problems.push('no request was made');
  if (stats.failures > 0) problems.push(`${stats.failures} client requests failed`);
  if (stats.wrong > 0) problems.push(`${stats.wrong} wrong answers`);
  return {
    seed: options.seed,
    durationMs: options.durationMs,
    clients: options.clients,
    requests: stats.requests,
    failures: stats.failures,
    wrongAnswers: stats.wrong,
    ...counters,
    proxyFailovers: proxyEvents.failovers,
    proxyRetries: proxyEvents.retries,
    p50LatencyMs: percentile(stats.latenciesMs, 50),
    p99LatencyMs: percentile(stats.latenciesMs, 99),
    maxLatencyMs: stats.latenciesMs.reduce((max, value) => Math.max(max, value), 0),
    registry: { live: registry.live, missing: registry.missing, notUp: registry.notUp, unexpected: registry.unexpected },
    samples: stats.samples,
    problems,
    logDir: workDir,
  };
}

type RegistryCheck = { ok: boolean; live: number; missing: string[]; notUp: string[]; unexpected: string[]; error?: string };

/** Compares discovery's LIST with the live replicas: each registered for its pair and up, nothing else. */
async function checkRegistry(discovery: Endpoint, replicas: readonly Replica[]): Promise<RegistryCheck> {
  const live = replicas.filter((r) => r.server.state === 'up');
  const reply = await askDiscovery(discovery, { verb: 'LIST' }, { timeoutMs: 2000 }).catch((error: unknown) => (error instanceof Error ? error : new Error(String(error))));
  if (reply instanceof Error || reply.kind !== 'list') {
    const error = reply instanceof Error ? reply.message : `LIST answered ${reply.kind}`;
    return { ok: false, live: live.length, missing: [], notUp: [], unexpected: [], error };
  }
  const key = (pair: string, host: string, port: number) => `${pair} ${host}:${port}`;
  const expected = new Map(live.map((r) => [key(r.pair, HOST, r.server.port), r]));
  const listed = new Map(
    reply.registrations.map((entry) => {
      const [a, b] = entry.units;
      // LIST names a pair in either order; the route's pairs are written as the plan writes them.
      const pair = CHAOS_PAIRS.includes(`${a}:${b}`) ? `${a}:${b}` : `${b}:${a}`;
      return [key(pair, entry.endpoint.host, entry.endpoint.port), entry.health] as const;
    }),
  );
  const missing = [...expected.keys()].filter((k) => !listed.has(k));
  const notUp = [...listed].filter(([k, health]) => expected.has(k) && health !== 'up').map(([k, health]) => `${k} ${health}`);
  const unexpected = [...listed.keys()].filter((k) => !expected.has(k));
  return { ok: missing.length + notUp.length + unexpected.length === 0, live: live.length, missing, notUp, unexpected };
}

/** `settle` on every discovery replica: each must list exactly the live replicas, all up. */
async function settleAll(discoveries: readonly ServerProcess[], replicas: readonly Replica[], timeoutMs: number): Promise<RegistryCheck> {
  let last: RegistryCheck | undefined;
  for (const d of discoveries) {
    last = await settle({ host: HOST, port: d.port }, replicas, timeoutMs);
    if (!last.ok) return { ...last, error: last.error === undefined ? undefined : `${d.name}: ${last.error}` };
  }
  return last as RegistryCheck;
}

/** Polls the registry until it holds exactly the live replicas, all up, or the deadline passes; returns the last check. */
async function settle(discovery: Endpoint, replicas: readonly Replica[], timeoutMs: number): Promise<RegistryCheck> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const check = await checkRegistry(discovery, replicas);
    if (check.ok || Date.now() > deadline) return check;
    await sleep(100);
  }
}

function describeRegistry(check: RegistryCheck): string {
  if (check.error) return check.error;
  return `missing [${check.missing.join(', ')}], not up [${check.notUp.join(', ')}], unexpected [${check.unexpected.join(', ')}]`;
}
