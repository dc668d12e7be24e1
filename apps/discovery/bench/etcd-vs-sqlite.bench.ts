// pnpm --filter discovery bench (second part): a discovery replica on etcd beside one on SQLite.
// LOOKUP is answered from memory by both, so their throughput should match (ratio near 1); ADD
// waits for a durable commit in both (an fsync'd SQLite transaction; an etcd Raft commit plus
// its WAL fsync), so its latency is what differs. Needs Debian's etcd on PATH; skips without it.
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EtcdServer, etcdPresence, readLines } from '@conv/testkit';
import { type LoadFigures, killAll, percentile, runLoad, start, stop } from './scale-tools';

const DISCOVERY = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const ADDS = Number(process.env.BENCH_ADDS ?? 400);
const POOLS = 100;
const CONNECTIONS = [1, 16];
const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 2000);
const log = (text: string) => process.stdout.write(`${text}\n`);

/** Sends each line after the previous reply, on one connection; returns each round trip in µs. */
function sequential(port: number, lines: string[]): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1', noDelay: true });
    const times: number[] = [];
    let i = 0;
    let sentAt = 0n;
    let granted = false;
    const send = () => {
      sentAt = process.hrtime.bigint();
      socket.write(`${lines[i]}\n`);
    };
    socket.setEncoding('utf8');
    // A session first: without one, discovery closes the connection after each reply.
    socket.on('connect', () => socket.write('SESSION\n'));
    const fail = (error: Error) => {
      socket.destroy();
      reject(error);
    };
    socket.on('error', reject);
    readLines(socket, (line) => {
      if (socket.destroyed) return;
      if (!granted) {
        if (line !== 'OK session') return fail(new Error(`SESSION -> ${line}`));
        granted = true;
        return send();
      }
      if (line !== 'SUCCESS') return fail(new Error(`${lines[i]} -> ${line}`));
      times.push(Number(process.hrtime.bigint() - sentAt) / 1000);
      if (++i === lines.length) {
        socket.destroy();
        return resolve(times);
      }
      send();
    });
  });
}

async function main(): Promise<void> {
  if (etcdPresence() !== 'present') {
    log('SKIPPED etcd-vs-sqlite: no `etcd` on PATH (apt-get install -y --no-install-recommends etcd-server)');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'conv-bench-etcd-'));
  let etcdServer: EtcdServer | undefined;
  const replicas: ChildProcess[] = [];
  try {
    etcdServer = await EtcdServer.start();
    const etcd = etcdServer.endpoint;
    // No probes (nothing listens on the registered ports): ADDs are trusted, so LOOKUP has answers.
    const common = ['0', '--trust-registrations', '--check-interval', '0', '--log-level', 'warn', '--max-connections', '4096'];
    const stores = [
      { name: 'SQLite', args: ['--db', join(dir, 'registry.db')] },
      { name: 'etcd', args: ['--store', `etcd://${etcd}`, '--lease-ttl', '10m'] },
    ];
    const ports = new Map<string, number>();
    for (const store of stores) {
      const { child, match } = await start(process.execPath, [DISCOVERY, ...common, ...store.args], /listening on 127\.0\.0\.1:(\d+)/);
      replicas.push(child);
      ports.set(store.name, Number(match[1]));
    }

    const adds = Array.from({ length: ADDS }, (_, i) => `ADD p${i % POOLS} q${i % POOLS} 127.0.0.1 ${10_000 + i}`);
    const rows: string[] = [];
    const addFigures = new Map<string, { p50: number; p99: number }>();
    for (const store of stores) {
      log(`${store.name}: ${ADDS} ADDs, one after another...`);
      const times = (await sequential(ports.get(store.name) ?? 0, adds)).sort((x, y) => x - y);
      addFigures.set(store.name, { p50: percentile(times, 50) / 1000, p99: percentile(times, 99) / 1000 });
    }
    const lookups = Array.from({ length: 64 }, (_, i) => `LOOKUP p${i % POOLS} q${i % POOLS}`);
    const lookupFigures = new Map<string, LoadFigures>();
    for (const connections of CONNECTIONS) {
      for (const store of stores) {
        log(`${store.name}: LOOKUP at ${connections} connection(s)...`);
        const figures = await runLoad(ports.get(store.name) ?? 0, 'lookup', connections, DURATION_MS, lookups);
        if (figures.failures > 0) throw new Error(`${figures.failures} FAILURE replies from the ${store.name} replica`);
        lookupFigures.set(`${store.name}@${connections}`, figures);
      }
      const sqlite = lookupFigures.get(`SQLite@${connections}`);
      const shared = lookupFigures.get(`etcd@${connections}`);
      if (sqlite && shared) {
        rows.push(
          `| LOOKUP, ${connections} connection(s) | ${Math.round(sqlite.rps).toLocaleString('en')} req/s | ${Math.round(shared.rps).toLocaleString('en')} req/s | ` +
            `${(shared.rps / sqlite.rps).toFixed(2)} |`,
        );
      }
    }
    const sqliteAdd = addFigures.get('SQLite');
    const etcdAdd = addFigures.get('etcd');
    log('');
    log(`node ${process.version}, ${ADDS} endpoints in ${POOLS} pools, ${DURATION_MS} ms per LOOKUP run, etcd ${etcd} (one member, fsync on)`);
    log('| figure | SQLite replica | etcd replica | etcd / SQLite |');
    log('|---|---|---|---|');
    for (const row of rows) log(row);
    if (sqliteAdd && etcdAdd) {
      log(`| ADD latency p50 | ${sqliteAdd.p50.toFixed(2)} ms | ${etcdAdd.p50.toFixed(2)} ms | ${(etcdAdd.p50 / sqliteAdd.p50).toFixed(1)} |`);
      log(`| ADD latency p99 | ${sqliteAdd.p99.toFixed(2)} ms | ${etcdAdd.p99.toFixed(2)} ms | ${(etcdAdd.p99 / sqliteAdd.p99).toFixed(1)} |`);
    }
  } finally {
    await Promise.all(replicas.map((replica) => stop(replica)));
    await etcdServer?.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.message : String(error)}\n`);
  killAll();
  process.exitCode = 1;
});
