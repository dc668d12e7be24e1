import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import type { WriteStream } from 'node:fs';
import { type EtcdConfig, type EtcdMemberSpec, etcdPlan, resolvePorts, storeUrl, waitHealthy } from '../etcd-command';

/**
 * The etcd cluster under a chaos run: `conv etcd --members n`'s plan on free loopback ports,
 * whose members can be SIGKILLed and restarted on their data (they rejoin the cluster).
 */
export class ChaosEtcdCluster {
  readonly #plan: EtcdMemberSpec[];
  readonly #children: (ChildProcess | undefined)[];
  readonly #log: WriteStream;

  private constructor(plan: EtcdMemberSpec[], log: WriteStream) {
    this.#plan = plan;
    this.#children = plan.map(() => undefined);
    this.#log = log;
  }

  static async start(members: EtcdConfig['members'], dataDir: string, log: WriteStream): Promise<ChaosEtcdCluster> {
    const ports = await resolvePorts({ members, port: 0, peerPort: 0 });
    const cluster = new ChaosEtcdCluster(etcdPlan({ members, dataDir }, ports), log);
    await Promise.all(cluster.#plan.map((_, i) => cluster.startMember(i)));
    return cluster;
  }

  /** `etcd://a,b,c`: what discovery's `--store` takes. */
  get url(): string {
    return storeUrl(this.#plan);
  }

  get size(): number {
    return this.#plan.length;
  }

  isUp(member: number): boolean {
    const child = this.#children[member];
    return child !== undefined && child.exitCode === null && child.signalCode === null;
  }

  /** Starts member `i` (on its data, so a restarted member rejoins) and resolves once it reports healthy. */
  async startMember(i: number, timeoutMs = 30_000): Promise<void> {
    const member = this.#plan[i];
    if (member === undefined) throw new Error(`no etcd member ${i}`);
    mkdirSync(member.dataDir, { recursive: true });
    this.#log.write(`--- ${new Date().toISOString()} start etcd ${member.name}\n`);
    const child = spawn('etcd', member.args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.pipe(this.#log, { end: false });
    child.stderr.pipe(this.#log, { end: false });
    this.#children[i] = child;
    if (!(await waitHealthy(member, child, timeoutMs))) throw new Error(`etcd member ${member.name} did not become healthy within ${timeoutMs} ms`);
  }

  /** SIGKILL member `i`; resolves once it is gone. */
  async killMember(i: number): Promise<void> {
    const child = this.#children[i];
    if (child === undefined || !this.isUp(i)) return;
    const gone = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await gone;
  }

  /** SIGTERM every member, SIGKILL after `graceMs`. */
  async stop(graceMs = 5000): Promise<void> {
    await Promise.all(
      this.#children.map(async (child, i) => {
        if (child === undefined || !this.isUp(i)) return;
        const gone = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await gone;
        clearTimeout(timer);
      }),
    );
  }
}
