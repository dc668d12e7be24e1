import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { countFlag, durationFlag, freePorts, portFlag, textFlag, validateFlags } from '@conv/server';
import { z } from 'zod';
import { version } from '../package.json';
import { defineCommand } from './command';
import { DEFAULT_DATA_DIR } from './data-dir';

export const EtcdConfigSchema = z
  .strictObject({
    /** An odd count: a cluster of n tolerates the loss of (n - 1) / 2 members; an even one adds nothing. */
    members: countFlag(1, 5)
      .refine((n) => n === 1 || n === 3 || n === 5, { message: 'must be 1, 3 or 5 (an odd number: a majority must survive)' })
      .default(1),
    /** First member's client port (the others: + 2, + 4); 0 = any free ports (tests). */
    port: portFlag().default(2379),
    /** First member's peer port (the others: + 2, + 4); ignored with --port 0. */
    peerPort: portFlag({ min: 1 }).default(2380),
    dataDir: textFlag('a folder').default(DEFAULT_DATA_DIR),
    readyTimeout: durationFlag().default(30_000),
  })
  .refine((c) => c.port === 0 || Math.abs(c.port - c.peerPort) % 2 === 1 || Math.abs(c.port - c.peerPort) >= 2 * c.members, {
    message: 'overlaps --peer-port: member i takes --port + 2i and --peer-port + 2i',
    path: ['port'],
  });
export type EtcdConfig = z.output<typeof EtcdConfigSchema>;

/** One etcd member of the plan: its name, ports and data dir, and the arguments that start it. */
export type EtcdMemberSpec = { readonly name: string; readonly clientPort: number; readonly peerPort: number; readonly dataDir: string; readonly args: string[] };

/**
 * The members `conv etcd` starts: one (`conv`, data in <data-dir>/etcd, as before) or a cluster
 * (`m1`, `m2`, ... with data in <data-dir>/etcd/<member>), member i on client port `port + 2i`
 * and peer port `peerPort + 2i`. Ports must be resolved (no 0) by the caller.
 */
export function etcdPlan(config: Pick<EtcdConfig, 'members' | 'dataDir'>, ports: readonly { client: number; peer: number }[]): EtcdMemberSpec[] {
  const single = config.members === 1;
  const members = ports.map(({ client, peer }, i) => ({
    name: single ? 'conv' : `m${i + 1}`,
    clientPort: client,
    peerPort: peer,
    dataDir: single ? join(config.dataDir, 'etcd') : join(config.dataDir, 'etcd', `m${i + 1}`),
  }));
  const initialCluster = members.map((m) => `${m.name}=http://127.0.0.1:${m.peerPort}`).join(',');
  return members.map((m) => ({
    ...m,
    args: [
      '--name', m.name,
      '--data-dir', m.dataDir,
      '--listen-client-urls', `http://127.0.0.1:${m.clientPort}`,
      '--advertise-client-urls', `http://127.0.0.1:${m.clientPort}`,
      '--listen-peer-urls', `http://127.0.0.1:${m.peerPort}`,
      '--initial-advertise-peer-urls', `http://127.0.0.1:${m.peerPort}`,
      '--initial-cluster', initialCluster,
      '--initial-cluster-token', single ? 'conv' : `conv-${members.length}`,
      // etcd's default heartbeat and election timeout, stated: a leader's death costs 1-2 s of
      // election. Ten times these (tried first, for busy laptops) cost 2-4 s, and two CPU burners
      // beside the whole test suite caused no needless election with these.
      ...(single ? [] : ['--heartbeat-interval', '100', '--election-timeout', '1000']),
      // etcd 3.4's default logger prints every Raft step; zap at warn keeps the terminal readable.
      '--logger', 'zap',
      '--log-outputs', 'stderr',
      '--log-level', 'warn',
    ],
  }));
}

/** `etcd://a,b,c`: what `conv up --store` and discovery's `--store` take. */
export function storeUrl(members: readonly Pick<EtcdMemberSpec, 'clientPort'>[]): string {
  return `etcd://${members.map((m) => `127.0.0.1:${m.clientPort}`).join(',')}`;
}

/**
 * `conv etcd [--members 3]`: Debian's etcd (package etcd-server) on loopback only, one member
 * or a cluster, for `conv up --store etcd://... --discovery-replicas 2`. Prints one banner
 * (with the URL list to pass as --store) once every member answers its health check; a member
 * that dies is reported and the others keep running (kill one to watch the cluster cope);
 * Ctrl-C stops them all. Returns 0 when stopped by a signal, 1 when etcd failed.
 */
export async function runEtcd(config: EtcdConfig, say: (line: string) => void): Promise<number> {
  const ports = await resolvePorts(config);
  const plan = etcdPlan(config, ports);
  let stopping = false;
  const children = plan.map((member) => {
    mkdirSync(member.dataDir, { recursive: true });
    return { member, child: spawn('etcd', member.args, { stdio: ['ignore', 'inherit', 'inherit'] }) };
  });
  const exits = children.map(({ member, child }) => exited(member, child, () => stopping, say));
  const stop = () => {
    stopping = true;
    for (const { child } of children) child.kill('SIGTERM');
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, stop);

  const healthy = await Promise.all(children.map(({ member, child }) => waitHealthy(member, child, config.readyTimeout)));
  if (healthy.every(Boolean)) {
    const rel = (path: string) => relative(process.cwd(), path) || '.';
    const url = storeUrl(plan);
    const lines =
      plan.length === 1
        ? [`etcd listening on 127.0.0.1:${plan[0]?.clientPort} (loopback only; data ${rel(plan[0]?.dataDir ?? '')}; peer port ${plan[0]?.peerPort})`]
        : [
            `etcd cluster of ${plan.length} members listening on 127.0.0.1:${plan[0]?.clientPort} (loopback only; every member below):`,
            ...children.map(({ member, child }) => `  ${member.name}  127.0.0.1:${member.clientPort}  peer ${member.peerPort}  data ${rel(member.dataDir)}  pid ${child.pid}`),
          ];
    say(
      [
        ...lines,
        'Now, in another terminal, two discovery replicas sharing it:',
        `  bin/conv up --store ${url} --discovery-replicas 2`,
        `Ctrl-C stops etcd (the registry stays in its data dir${plan.length === 1 ? '' : 's'}).`,
      ].join('\n'),
    );
  } else if (!stopping) {
    say(`conv etcd: etcd did not become healthy within ${config.readyTimeout / 1000} s; stopping it`);
    stop();
  }
  const codes = await Promise.all(exits);
  return healthy.every(Boolean) && codes.every((code) => code === 0) ? 0 : 1;
}

/** Resolves with 0 for a member stopped by us, 1 otherwise; reports a member that dies on its own. */
function exited(member: EtcdMemberSpec, child: ChildProcess, stopping: () => boolean, say: (line: string) => void): Promise<number> {
  return new Promise<number>((resolve) => {
    child.once('error', (error: NodeJS.ErrnoException) => {
      say(
        error.code === 'ENOENT'
          ? 'conv etcd: no `etcd` on PATH; install it: sudo apt-get install -y --no-install-recommends etcd-server'
          : `conv etcd: cannot start etcd: ${error.message}`,
      );
      resolve(1);
    });
    child.once('exit', (code, signal) => {
      if (stopping()) return resolve(code === 0 || signal === 'SIGTERM' ? 0 : 1);
      say(`conv etcd: member ${member.name} (127.0.0.1:${member.clientPort}) exited (${signal ?? `code ${code}`}); the others keep running`);
      resolve(1);
    });
  });
}

export async function waitHealthy(member: EtcdMemberSpec, child: ChildProcess, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
    try {
      const response = await fetch(`http://127.0.0.1:${member.clientPort}/health`, { signal: AbortSignal.timeout(2_000) });
      if (((await response.json()) as { health?: string }).health === 'true') return true;
    } catch {
      // Not listening yet, or no leader yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return false;
}

/** Port 0: any free loopback ports (for tests); otherwise `port + 2i` and `peerPort + 2i`. */
export async function resolvePorts(config: Pick<EtcdConfig, 'members' | 'port' | 'peerPort'>): Promise<{ client: number; peer: number }[]> {
  const free = config.port === 0 ? await freePorts(2 * config.members) : [];
  return Array.from({ length: config.members }, (_, i) =>
    config.port === 0 ? { client: free[2 * i] ?? 0, peer: free[2 * i + 1] ?? 0 } : { client: config.port + 2 * i, peer: config.peerPort + 2 * i },
  );
}

export const etcdCommand = defineCommand({
  spec: {
    name: 'conv etcd',
    version,
    usage:
      'conv etcd [options]\n\nRuns etcd on loopback for `conv up --store etcd://...`: one member (data in <data-dir>/etcd), or a cluster with --members 3 (data in <data-dir>/etcd/<member>).',
    flags: {
      members: { describe: 'etcd members: 1, or 3 (or 5) for a cluster that survives the loss of one (or two)', default: '1' },
      port: { describe: "first member's client port; member i takes port + 2i (0: any free ports)", default: '2379' },
      'peer-port': { describe: "first member's peer port; member i takes peer-port + 2i", default: '2380' },
      'data-dir': { describe: 'etcd keeps its data in <data-dir>/etcd (a cluster: <data-dir>/etcd/<member>)', default: 'data' },
      'ready-timeout': { describe: 'how long to wait for every member to be healthy', default: '30s' },
    },
  },
  read: (line) => validateFlags(EtcdConfigSchema, line.flags),
  run: (config, out) => runEtcd(config, (text) => out.say(text)),
});
