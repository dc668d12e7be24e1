import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { portFlag, textFlag, validateFlags } from '@conv/server';
import { z } from 'zod';
import { version } from '../package.json';
import { defineCommand } from './command';
import { DEFAULT_DATA_DIR } from './data-dir';

export type EtcdOptions = { readonly dataDir: string; readonly clientPort: number; readonly peerPort: number };

/**
 * `conv etcd`: Debian's etcd (package etcd-server) on loopback only, its data in
 * data/etcd, for `conv up --store etcd://127.0.0.1:2379 --discovery-replicas 2`. Prints one
 * banner once etcd answers its health check; Ctrl-C stops it. Returns etcd's exit code.
 */
export async function runEtcd(options: EtcdOptions, say: (line: string) => void): Promise<number> {
  const dataDir = join(options.dataDir, 'etcd');
  mkdirSync(dataDir, { recursive: true });
  const client = `http://127.0.0.1:${options.clientPort}`;
  const peer = `http://127.0.0.1:${options.peerPort}`;
  const child = spawn(
    'etcd',
    [
      '--name', 'conv',
      '--data-dir', dataDir,
      '--listen-client-urls', client,
      '--advertise-client-urls', client,
      '--listen-peer-urls', peer,
      '--initial-advertise-peer-urls', peer,
      '--initial-cluster', `conv=${peer}`,
      // etcd 3.4's default logger prints every Raft step; zap at warn keeps the terminal readable.
      '--logger', 'zap',
      '--log-outputs', 'stderr',
      '--log-level', 'warn',
    ],
    { stdio: ['ignore', 'inherit', 'inherit'] },
  );
  const exited = new Promise<number>((resolve) => {
    child.once('error', (error: NodeJS.ErrnoException) => {
      say(
        error.code === 'ENOENT'
          ? 'conv etcd: no `etcd` on PATH; install it: sudo apt-get install -y --no-install-recommends etcd-server'
          : `conv etcd: cannot start etcd: ${error.message}`,
      );
      resolve(1);
    });
    child.once('exit', (code, signal) => resolve(code ?? (signal === 'SIGINT' || signal === 'SIGTERM' ? 0 : 1)));
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => child.kill('SIGTERM'));

  const deadline = Date.now() + 20_000;
  let healthy = false;
  while (!healthy && Date.now() < deadline && child.exitCode === null && child.pid !== undefined) {
    try {
      const response = await fetch(`${client}/health`);
      healthy = ((await response.json()) as { health?: string }).health === 'true';
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  if (healthy) {
    say(
      [
        `etcd listening on 127.0.0.1:${options.clientPort} (loopback only; data ${relative(process.cwd(), dataDir) || '.'}; peer port ${options.peerPort})`,
        'Now, in another terminal, two discovery replicas sharing it:',
        `  npx pnpm@10.34.8 start --store etcd://127.0.0.1:${options.clientPort} --discovery-replicas 2`,
        'Ctrl-C stops etcd (the registry stays in its data dir).',
      ].join('\n'),
    );
  } else if (child.exitCode === null && child.pid !== undefined) {
    say(`conv etcd: etcd did not become healthy on ${client} within 20 s; stopping it`);
    child.kill('SIGTERM');
  }
  return exited;
}

const EtcdConfigSchema = z.strictObject({
  port: portFlag({ min: 1 }).default(2379),
  peerPort: portFlag({ min: 1 }).default(2380),
  dataDir: textFlag('a folder').default(DEFAULT_DATA_DIR),
});

export const etcdCommand = defineCommand({
  spec: {
    name: 'conv etcd',
    version,
    usage: 'conv etcd [options]\n\nRuns a local etcd on loopback (data in <data-dir>/etcd) for `conv up --store etcd://127.0.0.1:2379 --discovery-replicas 2`.',
    flags: {
      port: { describe: 'client port', default: '2379' },
      'peer-port': { describe: 'peer port', default: '2380' },
      'data-dir': { describe: 'etcd keeps its data in <data-dir>/etcd', default: 'data' },
    },
  },
  read: (line) => validateFlags(EtcdConfigSchema, line.flags),
  run: (config, out) => runEtcd({ dataDir: config.dataDir, clientPort: config.port, peerPort: config.peerPort }, (text) => out.say(text)),
});
