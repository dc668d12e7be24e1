import { type EtcdCluster, type EtcdMember, type FakeConverter, type ServerProcess, startFakeConverter, waitFor } from '@conv/testkit';
import { EtcdRegistryStore } from '../src/etcd-store';
import { askOnce, list, startDiscovery } from './helpers';

/**
 * Two discovery replicas on a three-member etcd cluster, as a system under faults: A reaches
 * etcd through member m1 only, B through all three. Converters are fake listeners registered
 * with ADD and kept alive by re-announcing (as real converters do), and a prober asks both
 * replicas for lookups all along. It keeps the books the tests judge by: every acknowledged
 * ADD and REMOVE, every lookup that went unanswered, and what etcd itself holds.
 */

/**
 * Health checks fast enough for tests, with a probe deadline that a test process busy
 * restarting etcd members (the fake converters live in it) does not miss.
 */
const CHECKS = ['--check-interval', '200ms', '--check-timeout', '2s'] as const;

const PAIRS = [['ft', 'in'], ['kg', 'g'], ['lbs', 'oz'], ['cm', 'm']] as const;
type Pair = (typeof PAIRS)[number];
const at = (converter: FakeConverter) => `127.0.0.1:${converter.port}`;
/** `ft in 127.0.0.1 4001 up` -> `127.0.0.1:4001`. */
const endpointOfLine = (line: string) => line.split(' ').slice(2, 4).join(':');

export type Replica = 'a' | 'b';

export class ReplicasUnderFaults {
  readonly cluster: EtcdCluster;
  readonly replicas: Record<Replica, ServerProcess | undefined> = { a: undefined, b: undefined };
  /** Every lookup that was not answered with one of our converters of that pair. */
  readonly unanswered: string[] = [];
  /** Lookups answered, per replica. */
  readonly answered: Record<Replica, number> = { a: 0, b: 0 };
  readonly #converters = new Map<string, { converter: FakeConverter; pair: Pair }>();
  readonly #acknowledged = new Set<string>();
  readonly #removed = new Set<string>();
  readonly #etcd: EtcdRegistryStore;
  readonly #args: readonly string[];
  #running = true;
  readonly #loops: Promise<void>[] = [];

  private constructor(cluster: EtcdCluster, args: readonly string[]) {
    this.cluster = cluster;
    this.#args = args;
    this.#etcd = new EtcdRegistryStore({ endpoints: cluster.endpoints, timeoutMs: 3_000 });
  }

  /** Starts both replicas, registers two converters per pair through B, and starts re-announcing and probing. */
  static async start(cluster: EtcdCluster, args: readonly string[] = []): Promise<ReplicasUnderFaults> {
    const system = new ReplicasUnderFaults(cluster, args);
    await Promise.all([system.startReplica('a'), system.startReplica('b')]);
    for (const pair of PAIRS) for (let i = 0; i < 2; i++) await system.register(pair);
    system.#loops.push(system.#reannounce(), system.#probe());
    return system;
  }

  get m1(): EtcdMember {
    return this.cluster.member('m1');
  }

  /**
   * Starts replica A (on m1 only) or B (on all members), again after a kill. The prober asks it
   * once it answers for every pair: a restarted replica hands out nothing before its own
   * probes have proven the endpoints it loaded.
   */
  async startReplica(name: Replica): Promise<ServerProcess> {
    const store = name === 'a' ? this.cluster.url([this.m1]) : this.cluster.url();
    const replica = await startDiscovery(['--store', store, ...CHECKS, ...this.#args]);
    await answering(replica.port, name, PAIRS.filter((pair) => this.live(pair).length > 0));
    this.replicas[name] = replica;
    return replica;
  }

  /** Until every running replica answers a lookup for every pair with a live converter (its probes have proven them). */
  async answering(): Promise<void> {
    const pairs = PAIRS.filter((pair) => this.live(pair).length > 0);
    for (const name of ['a', 'b'] as const) {
      const replica = this.replicas[name];
      if (replica !== undefined) await answering(replica.port, name, pairs);
    }
  }

  /** Acknowledged re-announces per replica: a lease is kept alive only by these. */
  readonly reannounced: Record<Replica, number> = { a: 0, b: 0 };

  async killReplica(name: Replica): Promise<void> {
    const replica = this.replicas[name];
    this.replicas[name] = undefined;
    replica?.kill('SIGKILL');
    await replica?.exited;
  }

  /** A new converter, registered through `via` (retried until acknowledged: etcd may be electing). */
  async register(pair: Pair = PAIRS[0], via: Replica = 'b'): Promise<FakeConverter> {
    const converter = await startFakeConverter({ units: pair });
    const key = at(converter);
    this.#converters.set(key, { converter, pair });
    await waitFor(async () => (await this.ask(via, `ADD ${pair[0]} ${pair[1]} 127.0.0.1 ${converter.port}`)) === 'SUCCESS', {
      what: `the ADD of ${key} acknowledged by ${via}`,
      timeoutMs: 15_000,
      intervalMs: 100,
    });
    this.#acknowledged.add(key);
    return converter;
  }

  /** Removes a registered converter through `via` (re-announcing it stops first), retried until acknowledged. */
  async deregister(converter: FakeConverter, via: Replica = 'b'): Promise<void> {
    const key = at(converter);
    this.#acknowledged.delete(key);
    this.#removed.add(key);
    await this.#idle();
    await waitFor(async () => (await this.ask(via, `REMOVE 127.0.0.1 ${converter.port}`)) === 'SUCCESS', {
      what: `the REMOVE of ${key} acknowledged by ${via}`,
      timeoutMs: 15_000,
      intervalMs: 100,
    });
  }

  /** A registered converter, still registered. */
  live(pair: Pair = PAIRS[0]): FakeConverter[] {
    return [...this.#converters.entries()].filter(([key, c]) => this.#acknowledged.has(key) && samePair(c.pair, pair)).map(([, c]) => c.converter);
  }

  /** What etcd holds, as sorted `host:port`; undefined while etcd cannot answer. */
  async truth(): Promise<string[] | undefined> {
    try {
      return (await this.#etcd.load()).records.map((r) => `${r.endpoint.host}:${r.endpoint.port}`).sort();
    } catch {
      return undefined;
    }
  }

  async listed(name: Replica): Promise<string[] | undefined> {
    const replica = this.replicas[name];
    if (replica === undefined) return undefined;
    try {
      return (await list(replica.port)).map(endpointOfLine).sort();
    } catch {
      return undefined;
    }
  }

  /**
   * Waits until every running replica lists exactly what etcd holds (10 s at most), and etcd
   * every acknowledged registration and no removed one; returns the last reading taken (the
   * one that satisfied this, or the last before the deadline), for the test to judge.
   */
  async converge(timeoutMs = 10_000): Promise<{ etcd: string[]; a?: string[]; b?: string[]; acknowledged: string[]; removed: string[] }> {
    const read = async () => {
      const etcd = await this.truth();
      const [a, b] = await Promise.all([this.listed('a'), this.listed('b')]);
      return { etcd: etcd ?? [], a, b, acknowledged: [...this.#acknowledged].sort(), removed: [...this.#removed].sort(), complete: etcd !== undefined };
    };
    const same = (x: readonly string[] | undefined, y: readonly string[]) => x === undefined || JSON.stringify(x) === JSON.stringify(y);
    let last = await read();
    await waitFor(
      async () => {
        last = await read();
        const { etcd, complete } = last;
        if (!complete || last.acknowledged.some((key) => !etcd.includes(key)) || last.removed.some((key) => etcd.includes(key))) return false;
        return same(last.a, etcd) && same(last.b, etcd);
      },
      { what: 'every replica to list exactly what etcd holds, and etcd every acknowledged registration', timeoutMs, intervalMs: 100 },
    ).catch(() => undefined);
    const { complete: _complete, ...state } = last;
    return state;
  }

  /** Every converter `name` hands out for `pair` over a few turns of its rotation. */
  async handedOut(name: Replica, pair: Pair = PAIRS[0]): Promise<string[]> {
    const seen = new Set<string>();
    for (let i = 0; i < 3 * (this.live(pair).length + 1); i++) seen.add((await this.ask(name, `LOOKUP ${pair[0]} ${pair[1]}`)).replace(' ', ':'));
    return [...seen].sort();
  }

  async stop(): Promise<void> {
    this.#running = false;
    await Promise.all(this.#loops);
    await Promise.all([this.killReplica('a'), this.killReplica('b')]);
    await this.#etcd.close();
    for (const { converter } of this.#converters.values()) await converter.close();
  }

  /** First line of the reply, or the error's message. */
  async ask(name: Replica, line: string): Promise<string> {
    const replica = this.replicas[name];
    if (replica === undefined) return 'no such replica';
    try {
      return (await askOnce(replica.port, line))[0] ?? '';
    } catch (error) {
      return error instanceof Error ? error.message : String(error);
    }
  }

  #inflight = new Set<Promise<unknown>>();

  async #idle(): Promise<void> {
    await Promise.all([...this.#inflight]);
  }

  /** Every registered converter re-announces every second, to B, or to A when B does not take it. */
  async #reannounce(): Promise<void> {
    while (this.#running) {
      for (const [key, { pair, converter }] of this.#converters) {
        if (!this.#acknowledged.has(key)) continue;
        const line = `ADD ${pair[0]} ${pair[1]} 127.0.0.1 ${converter.port}`;
        const announce = this.ask('b', line).then(async (reply) => {
          if (reply === 'SUCCESS') return void this.reannounced.b++;
          if ((await this.ask('a', line)) === 'SUCCESS') this.reannounced.a++;
        });
        this.#inflight.add(announce);
        void announce.finally(() => this.#inflight.delete(announce));
      }
      await sleep(1_000);
    }
  }

  /** Both replicas are asked for a lookup every 50 ms; any answer that is not one of our converters is kept. */
  async #probe(): Promise<void> {
    let turn = 0;
    while (this.#running) {
      const pair = PAIRS[turn++ % PAIRS.length] ?? PAIRS[0];
      await Promise.all(
        (['a', 'b'] as const).map(async (name) => {
          if (this.replicas[name] === undefined) return;
          const answer = await this.ask(name, `LOOKUP ${pair[0]} ${pair[1]}`);
          if (this.replicas[name] === undefined) return; // killed meanwhile: not a lookup it owed
          const known = this.#converters.get(answer.replace(' ', ':'));
          if (known !== undefined && samePair(known.pair, pair)) this.answered[name]++;
          else this.unanswered.push(`${name}: LOOKUP ${pair.join(' ')} -> ${answer}`);
        }),
      );
      await sleep(50);
    }
  }
}

function samePair(x: Pair, y: Pair): boolean {
  return x[0] === y[0] && x[1] === y[1];
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function answering(port: number, name: Replica, pairs: readonly Pair[]): Promise<unknown> {
  return waitFor(async () => (await Promise.all(pairs.map(async (p) => (await askOnce(port, `LOOKUP ${p[0]} ${p[1]}`))[0]))).every((line) => /^\S+ \d+$/.test(line ?? '')), {
    what: `replica ${name} answering a lookup for every pair`,
    timeoutMs: 15_000,
  });
}
