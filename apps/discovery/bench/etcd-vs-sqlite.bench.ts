// pnpm --filter discovery bench (second part): a discovery replica on etcd beside one on SQLite.
// LOOKUP is answered from memory by both, so their throughput should match (ratio near 1); ADD
// waits for a durable commit in both (an fsync'd SQLite transaction; an etcd Raft commit plus
// its WAL fsync), so its latency is what differs. Needs Debian's etcd on PATH; skips without it.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '@conv/testkit';

const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));
const DISCOVERY = here('../dist/main.js');
const ADDS = Number(process.env.BENCH_ADDS ?? 400);
const POOLS = 100;
const CONNECTIONS = [1, 16];
const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 2000);
const children: ChildProcess[] = [];
const log = (text: string) => process.stdout.write(`${text}\n`);

function start(command: string, args: string[], ready: RegExp): Promise<RegExpExecArray> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const match = ready.exec(out);
      if (match) resolve(match);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${command} exited (${code}) early:\n${out.slice(-800)}`)));
  });
}

async function startEtcd(dir: string): Promise<string> {
  const [clientPort, peerPort] = [await freePort(), await freePort()];
  const client = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const child = spawn('etcd', ['--name', 'bench', '--data-dir', join(dir, 'etcd'), '--listen-client-urls', client, '--advertise-client-urls', client,
    '--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer, '--initial-cluster', `bench=${peer}`, '--log-level', 'error'], { stdio: 'ignore' });
  children.push(child);
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      const health = (await (await fetch(`${client}/health`)).json()) as { health?: string };
      if (health.health === 'true') return `127.0.0.1:${clientPort}`;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error('etcd did not become healthy within 20 s');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Sends each line after the previous reply, on one connection; returns each round trip in µs. */
function sequential(port: number, lines: string[]): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1', noDelay: true });
    const times: number[] = [];
    let i = 0;
    let sentAt = 0n;
    let buffer = '';
    let granted = false;
    const send = () => {
      sentAt = process.hrtime.bigint();
      socket.write(`${lines[i]}\n`);
    };
    socket.setEncoding('utf8');
    // A session first: without one, discovery closes the connection after each reply.
    socket.on('connect', () => socket.write('SESSION\n'));
    socket.on('error', reject);
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      let newline: number;
      while ((newline = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        if (!granted) {
          if (line !== 'OK session') return reject(new Error(`SESSION -> ${line}`));
          granted = true;
          send();
          continue;
        }
        if (line !== 'SUCCESS') return reject(new Error(`${lines[i]} -> ${line}`));
        times.push(Number(process.hrtime.bigint() - sentAt) / 1000);
        if (++i === lines.length) {
          socket.destroy();
          return resolve(times);
        }
        send();
      }
    });
  });
}

type Figures = { rps: number; p50us: number; p99us: number; completed: number; failures: number };

async function load(port: number, connections: number, requests: string[]): Promise<Figures> {
  const child = spawn(process.execPath, ['--import', 'tsx', here('./load-generator.ts'), String(port), 'lookup', String(connections), String(DURATION_MS), '300', requests.join('|')], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  await new Promise((resolve) => child.once('exit', resolve));
  return JSON.parse(out) as Figures;
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;

async function main(): Promise<void> {
  if (spawnSync('etcd', ['--version'], { stdio: 'ignore' }).status !== 0) {
    log('SKIPPED etcd-vs-sqlite: no `etcd` on PATH (apt-get install -y --no-install-recommends etcd-server)');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'conv-bench-etcd-'));
  try {
    const etcd = await startEtcd(dir);
    // No probes (nothing listens on the registered ports): ADDs are trusted, so LOOKUP has answers.
    const common = ['0', '--trust-registrations', '--check-interval', '0', '--log-level', 'warn', '--max-connections', '4096'];
    const stores = [
      { name: 'SQLite', args: ['--db', join(dir, 'registry.db')] },
      { name: 'etcd', args: ['--store', `etcd://${etcd}`, '--lease-ttl', '10m'] },
    ];
    const ports = new Map<string, number>();
    for (const store of stores) {
      const match = await start(process.execPath, [DISCOVERY, ...common, ...store.args], /listening on 127\.0\.0\.1:(\d+)/);
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
    const lookupFigures = new Map<string, Figures>();
    for (const connections of CONNECTIONS) {
      for (const store of stores) {
        log(`${store.name}: LOOKUP at ${connections} connection(s)...`);
        const figures = await load(ports.get(store.name) ?? 0, connections, lookups);
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
    for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 500));
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.message : String(error)}\n`);
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  process.exitCode = 1;
});
