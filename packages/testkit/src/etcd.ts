import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parsePrometheusText } from './prometheus-text';
import { waitFor } from './wait-for';
import { freePorts } from '@conv/server';
import { runningInCI } from './ci';
import { afterAll, beforeAll, describe, it } from 'vitest';

/**
 * Real etcd for tests and benchmarks: one member or a cluster, each member with its own data dir in a temp
 * folder and its own free loopback ports, so that any other etcd on the machine (Debian's
 * service on 2379/2380) is never touched. Timings suit a loaded machine: a member that misses
 * a few heartbeats under two CPU burners must not cost the cluster its leader.
 */

/** Whether the etcd binary exists. Missing outside CI: tests skip, loudly. Missing in CI: they fail. */
export function etcdPresence(): 'present' | 'skip' | 'required-but-missing' {
  const found = spawnSync('etcd', ['--version'], { stdio: 'ignore' });
  if (found.error === undefined && found.status === 0) return 'present';
  if (runningInCI()) return 'required-but-missing';
  process.stderr.write(
    '\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n' +
      '!!! SKIPPING the etcd tests: no `etcd` binary on PATH.                         !!!\n' +
      '!!! Install it (apt-get install -y --no-install-recommends etcd-server) to run them. !!!\n' +
      '!!! In CI (CI=true or CI=1) a missing etcd fails instead.                      !!!\n' +
      '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n\n',
  );
  return 'skip';
}

/**
 * `describe` for a suite that needs a real etcd: it runs when the binary is on PATH; outside CI
 * without it, it is listed as skipped after etcdPresence's loud banner; in CI without it, one
 * test fails and says what is missing (a skip must never hide there).
 */
export function describeWithEtcd(name: string, options: { timeout?: number }, body: () => void): void {
  const presence = etcdPresence();
  if (presence === 'required-but-missing') {
    describe(name, () => {
      it('needs the etcd binary in CI (apt-get install etcd-server)', () => {
        throw new Error('CI is set but no `etcd` binary is on PATH: .ci/run should have installed etcd-server');
      });
    });
    return;
  }
  describe.skipIf(presence === 'skip')(name, options, body);
}

/** One etcd for the enclosing suite: started before its tests, destroyed after; read it in tests. */
export function useEtcdServer(): () => EtcdServer {
  let etcd: EtcdServer | undefined;
  beforeAll(async () => {
    etcd = await EtcdServer.start();
  }, 30_000);
  afterAll(async () => {
    await etcd?.destroy();
  });
  return () => {
    if (etcd === undefined) throw new Error('useEtcdServer: etcd is read before the suite started it');
    return etcd;
  };
}

/** The sum of one metric's samples (all labels) on a member's /metrics. */
export async function etcdMetric(endpoint: string, name: string): Promise<number> {
  const text = await (await fetch(`http://${endpoint}/metrics`)).text();
  return parsePrometheusText(text)
    .samples.filter((sample) => sample.name === name)
    .reduce((sum, sample) => sum + sample.value, 0);
}

/**
 * Heartbeat and election timeout (ms): etcd's defaults, as `conv etcd --members 3` runs them.
 * Ten times these (tried before) made a leader's death cost 2-4 s; these survive two CPU
 * burners beside the whole suite, and a needless election under load only delays writes.
 */
export const ETCD_TIMING = { heartbeatMs: 100, electionMs: 1_000 } as const;

/** One member: a process that can be killed, frozen, and started again on its data. */
export class EtcdMember {
  readonly name: string;
  readonly dataDir: string;
  readonly clientPort: number;
  readonly peerPort: number;
  #cluster: { initial: string; token: string };
  #child: ChildProcess | undefined;
  #output = '';

  constructor(options: { name: string; dataDir: string; clientPort: number; peerPort: number }) {
    this.name = options.name;
    this.dataDir = options.dataDir;
    this.clientPort = options.clientPort;
    this.peerPort = options.peerPort;
    this.#cluster = { initial: `${this.name}=${this.peerUrl}`, token: this.name };
  }

  /** `127.0.0.1:<port>`, as `--store etcd://...` takes it. */
  get endpoint(): string {
    return `127.0.0.1:${this.clientPort}`;
  }

  get peerUrl(): string {
    return `http://127.0.0.1:${this.peerPort}`;
  }

  get running(): boolean {
    return this.#child !== undefined && this.#child.exitCode === null && this.#child.signalCode === null;
  }

  /** The cluster it belongs to: `name=peer-url,...` and a token unique to that cluster. */
  joins(initial: string, token: string): void {
    this.#cluster = { initial, token };
  }

  /** Starts the process (again, on its data dir if it has one); does not wait for health. */
  launch(): void {
    if (this.running) throw new Error(`etcd member ${this.name} is already running`);
    const client = `http://${this.endpoint}`;
    this.#output = '';
    const child = spawn(
      'etcd',
      [
        '--name', this.name,
        '--data-dir', this.dataDir,
        '--listen-client-urls', client,
        '--advertise-client-urls', client,
        '--listen-peer-urls', this.peerUrl,
        '--initial-advertise-peer-urls', this.peerUrl,
        '--initial-cluster', this.#cluster.initial,
        '--initial-cluster-token', this.#cluster.token,
        '--initial-cluster-state', 'new',
        '--heartbeat-interval', String(ETCD_TIMING.heartbeatMs),
        '--election-timeout', String(ETCD_TIMING.electionMs),
        '--log-level', 'error',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.#child = child;
    child.stdout.on('data', (chunk: Buffer) => (this.#output = (this.#output + chunk.toString()).slice(-4000)));
    child.stderr.on('data', (chunk: Buffer) => (this.#output = (this.#output + chunk.toString()).slice(-4000)));
  }

  /** Whether it answers its health check (it has a leader and serves reads). */
  async healthy(): Promise<boolean> {
    const child = this.#child;
    if (child === undefined) return false;
    if (child.exitCode !== null) throw new Error(`etcd ${this.name} exited (${child.exitCode}): ${this.#output}`);
    try {
      const response = await fetch(`http://${this.endpoint}/health`, { signal: AbortSignal.timeout(2_000) });
      return ((await response.json()) as { health?: string }).health === 'true';
    } catch {
      return false;
    }
  }

  async waitHealthy(timeoutMs = 30_000): Promise<void> {
    await waitFor(() => this.healthy(), { what: `etcd ${this.name} healthy on ${this.endpoint}`, timeoutMs, intervalMs: 100 });
  }

  /** This member's id and the leader's, as this member sees it (undefined while it does not answer). */
  async status(): Promise<{ id: string; leader: string } | undefined> {
    try {
      const response = await fetch(`http://${this.endpoint}/v3/maintenance/status`, { method: 'POST', body: '{}', signal: AbortSignal.timeout(2_000) });
      const body = (await response.json()) as { header?: { member_id?: string }; leader?: string };
      const id = body.header?.member_id;
      return id === undefined || body.leader === undefined || body.leader === '0' ? undefined : { id, leader: body.leader };
    } catch {
      return undefined;
    }
  }

  /** SIGKILL: no clean shutdown, as a crash. Resolves once the process is gone. */
  async kill(): Promise<void> {
    const child = this.#child;
    this.#child = undefined;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGCONT');
    child.kill('SIGKILL');
    await exited;
  }

  /** SIGSTOP: alive but silent, its connections open, as a member stuck on a dead disk. */
  freeze(): void {
    this.#child?.kill('SIGSTOP');
  }

  thaw(): void {
    this.#child?.kill('SIGCONT');
  }

  /** Starts it again on the same data dir and ports; resolves once it reports healthy. */
  async restart(timeoutMs?: number): Promise<void> {
    await this.kill();
    this.launch();
    await this.waitHealthy(timeoutMs);
  }

  /** A one-member cluster replaced by a new, empty etcd on the same address: data gone, revisions start over. */
  async replaceWithEmpty(): Promise<void> {
    await this.kill();
    rmSync(this.dataDir, { recursive: true, force: true });
    this.launch();
    await this.waitHealthy();
  }
}

/** A cluster of `members` etcd processes on loopback, started together. */
export class EtcdCluster {
  readonly members: readonly EtcdMember[];
  readonly #root: string;

  private constructor(root: string, members: EtcdMember[]) {
    this.#root = root;
    this.members = members;
  }

  static async start(options: { members?: number } = {}): Promise<EtcdCluster> {
    const count = options.members ?? 3;
    const root = mkdtempSync(join(tmpdir(), 'conv-etcd-'));
    const ports = await freePorts(2 * count);
    const members = Array.from({ length: count }, (_, i) => new EtcdMember({ name: `m${i + 1}`, dataDir: join(root, `m${i + 1}`), clientPort: ports[2 * i] ?? 0, peerPort: ports[2 * i + 1] ?? 0 }));
    const initial = members.map((member) => `${member.name}=${member.peerUrl}`).join(',');
    for (const member of members) member.joins(initial, `conv-test-${process.pid}-${root.slice(-6)}`);
    const cluster = new EtcdCluster(root, members);
    try {
      for (const member of members) member.launch();
      await Promise.all(members.map((member) => member.waitHealthy()));
    } catch (error) {
      await cluster.destroy();
      throw error;
    }
    return cluster;
  }

  /** Every member's `host:port`. */
  get endpoints(): string[] {
    return this.members.map((member) => member.endpoint);
  }

  /** `etcd://a,b,c` for `--store`; `only` picks the members a replica may reach. */
  url(only: readonly EtcdMember[] = this.members): string {
    return `etcd://${only.map((member) => member.endpoint).join(',')}`;
  }

  member(name: string): EtcdMember {
    const found = this.members.find((member) => member.name === name);
    if (found === undefined) throw new Error(`no etcd member ${name}`);
    return found;
  }

  /** The member every running member names as leader, once they agree. */
  async leader(timeoutMs = 15_000): Promise<EtcdMember> {
    return waitFor(
      async () => {
        const running = this.members.filter((member) => member.running);
        const statuses = await Promise.all(running.map((member) => member.status()));
        const leader = statuses[0]?.leader;
        if (leader === undefined || statuses.some((status) => status?.leader !== leader)) return undefined;
        return running[statuses.findIndex((status) => status?.id === leader)];
      },
      { what: 'the etcd members to agree on a leader', timeoutMs, intervalMs: 100 },
    );
  }

  /** Hands leadership to `member` (etcd's own leader transfer) and waits until every member agrees. */
  async moveLeader(member: EtcdMember): Promise<void> {
    const leader = await this.leader();
    if (leader === member) return;
    const target = await member.status();
    if (target === undefined) throw new Error(`etcd member ${member.name} does not answer`);
    const response = await fetch(`http://${leader.endpoint}/v3/maintenance/transfer-leadership`, { method: 'POST', body: JSON.stringify({ targetID: target.id }) });
    if (!response.ok) throw new Error(`etcd refused to move the leader to ${member.name}: ${response.status} ${await response.text()}`);
    await waitFor(async () => (await this.leader()) === member, { what: `${member.name} to lead the etcd cluster`, timeoutMs: 15_000 });
  }

  async destroy(): Promise<void> {
    await Promise.all(this.members.map((member) => member.kill()));
    rmSync(this.#root, { recursive: true, force: true });
  }
}

/** One etcd member alone: the single-member etcd most tests need. */
export class EtcdServer {
  readonly #cluster: EtcdCluster;
  readonly #member: EtcdMember;

  private constructor(cluster: EtcdCluster) {
    this.#cluster = cluster;
    const [member] = cluster.members;
    if (member === undefined) throw new Error('an etcd cluster without members');
    this.#member = member;
  }

  static async start(): Promise<EtcdServer> {
    return new EtcdServer(await EtcdCluster.start({ members: 1 }));
  }

  get endpoint(): string {
    return this.#member.endpoint;
  }

  get url(): string {
    return this.#cluster.url();
  }

  /** Starts (again) on the same data dir and ports; resolves once it reports healthy. */
  restart(): Promise<void> {
    return this.#member.restart();
  }

  /** Replaces it with a new, empty etcd on the same address: its data is gone, its revisions start over. */
  replaceWithEmpty(): Promise<void> {
    return this.#member.replaceWithEmpty();
  }

  kill(): Promise<void> {
    return this.#member.kill();
  }

  freeze(): void {
    this.#member.freeze();
  }

  thaw(): void {
    this.#member.thaw();
  }

  destroy(): Promise<void> {
    return this.#cluster.destroy();
  }
}
