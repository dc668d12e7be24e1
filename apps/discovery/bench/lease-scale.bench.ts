// pnpm --filter discovery bench (last): liveness at scale. The built discovery server with its
// SQLite store holds N heartbeating endpoints (N = 10, 10,000, 100,000), served by farm processes
// that listen on many 127.x addresses, answer the conversion protocol right and re-announce every
// endpoint every 1.5 s with a 5 s lease over a few SESSION connections. Then endpoints die (their
// heartbeats stop and their listeners close, as a SIGKILLed converter's would) while a load
// generator sends LOOKUPs and 10 WATCH clients (what 10 proxies keep) follow the registry; it
// measures how long each dead endpoint is still handed out by LOOKUP, how long until every
// watcher has heard, discovery's CPU and memory, and LOOKUP throughput against the bare floor.
//
//   BENCH_SIZES=10,10000   (or --sizes 10,10000)  which registry sizes; default all three
//   BENCH_KILLS=30         endpoints killed per size
//   BENCH_LOAD=0           no LOOKUP load during the kills
//   BENCH_CPU_PROF=<dir>   discovery runs with --cpu-prof, profiles written there
//   BENCH_TRUST=auto       registrations trusted (--trust-registrations) above 1,000 endpoints,
//                          where admission probes of every one would take many minutes on 2 cores;
//                          `yes` or `no` for every size. Routine probes check answers either way.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Farm, type Victim, killPhase } from './kill-phase';
import { Conversation, cpuSeconds, killAll, loadAverage, machineCpu, memoryMb, percentile, sleep, start, startWithFiles, stop } from './scale-tools';

const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));
const DISCOVERY = here('../dist/main.js');
const sizesArg = process.argv.indexOf('--sizes');
const SIZES = ((sizesArg >= 0 ? process.argv[sizesArg + 1] : undefined) ?? process.env.BENCH_SIZES ?? '10,10000,100000').split(',').map(Number);
const KILLS = Number(process.env.BENCH_KILLS ?? 30);
const LOAD = process.env.BENCH_LOAD !== '0';
const CPU_PROF = process.env.BENCH_CPU_PROF;
const TRUST = process.env.BENCH_TRUST ?? 'auto';
const trusted = (n: number) => TRUST === 'yes' || (TRUST === 'auto' && n > 1000);
const LEASE = '5s';
const LEASE_MS = 5000;
const ANNOUNCE_MS = 1500;
const WATCHERS = 10;
const STEADY_MS = 10_000;
// Endpoints per farm process: each is a file, and this container cannot raise the hard limit (20,000).
const FARM_SIZE = 12_500;
const PER_HOST = 1000; // listening ports per 127.x address
const SESSIONS_PER_FARM = 2;
const POOL_SIZE = 10; // live endpoints per pair
// New registrations per second, across all farms: 10,000 first ADDs at once kept this busy
// machine's discovery behind by more than a lease (each is an SQLite write), so leases lapsed
// before they were first renewed.
const START_PER_SECOND = Number(process.env.BENCH_START_RATE ?? 1000);

const dirs = new Set<string>();
const log = (text: string) => process.stdout.write(`${text}\n`);
const seconds = (ms: number) => (ms / 1000).toFixed(2);

type Row = {
  n: number;
  trusted: boolean;
  leases: boolean;
  registerMs: number;
  snapshotMs: number;
  lookup: number[];
  sinceAnnounce: number[];
  watch: number[];
  missedWatch: number;
  falseLapses: number;
  cpuSteady: number;
  cpuKills: number;
  machineBusy: number;
  load: string;
  rss: number;
  peak: number;
  acksPerSecond: number;
  heartbeatFailures: string;
  downBecause: string;
  rps: number;
  floorRps: number;
};

const hostOf = (i: number) => {
  const h = Math.floor(i / PER_HOST);
  return `127.1.${Math.floor(h / 250)}.${(h % 250) + 1}`;
};

async function runSize(n: number, barePort: number): Promise<Row> {
  const victimCount = Math.min(KILLS, Math.floor(n / 2));
  log(`\n== ${n.toLocaleString('en')} endpoints (${victimCount} of them will die, ${KILLS} kills in all) ==`);
  const dir = mkdtempSync(join(tmpdir(), 'conv-lease-scale-'));
  dirs.add(dir);
  const profile = CPU_PROF === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', CPU_PROF];
  const cap = String(n + 1000);
  // Why each endpoint went down, from discovery's own log (a lapsed lease, or failed probes).
  const reasons = new Map<string, number>();
  const onErrorLine = (line: string) => {
    if (!line.includes('"msg":"health"') || !line.includes('"to":"down"')) return;
    const reason = /"reason":"([^"]*)"/.exec(line)?.[1] ?? 'no reason';
    const key = reason.startsWith('lease lapsed') ? 'lease lapsed' : `probe: ${reason.slice(0, 40)}`;
    reasons.set(key, (reasons.get(key) ?? 0) + 1);
  };
  const discovery = await start(
    process.execPath,
    [...profile, DISCOVERY, '0', '--db', join(dir, 'registry.db'), '--log-level', 'warn', '--max-pending-per-source', cap, '--max-pending', cap, '--admission-rate', '0', '--max-connections', '4096', '--pending-grace', '10m', ...(trusted(n) ? ['--trust-registrations'] : [])],
    /listening on 127\.0\.0\.1:(\d+)/,
    { onErrorLine },
  );
  const port = Number(discovery.match[1]);
  const pid = discovery.child.pid ?? 0;
  const control = await Conversation.open(port);
  await control.ask('SESSION');
  const [features = ''] = await control.ask('FEATURES');
  const leases = features.split(' ').includes('lease');
  if (!leases) log(`discovery answers "${features}": no leases, so endpoints announce without lease= and only probes can find the dead`);

  // Victims first, each alone in its pair so that LOOKUP of the pair names it until it is out;
  // the rest in pools of ten.
  const specs = Array.from({ length: n }, (_, i) =>
    i < victimCount ? { a: `v${i}x`, b: `v${i}y`, host: hostOf(i) } : { a: `p${Math.floor((i - victimCount) / POOL_SIZE)}x`, b: `p${Math.floor((i - victimCount) / POOL_SIZE)}y`, host: hostOf(i) },
  );
  const farms: Farm[] = [];
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: Math.ceil(n / FARM_SIZE) }, async (_, f) => {
      const slice = specs.slice(f * FARM_SIZE, (f + 1) * FARM_SIZE);
      const farm: Farm = { child: undefined, endpoints: [], stats: { sent: 0, ok: 0, failed: 0, failures: {}, queuedBytes: 0, reconnects: 0 }, onLine: () => undefined };
      farms[f] = farm;
      const config = { discoveryPort: port, endpoints: slice, firstPort: 20_000, lease: leases ? LEASE : null, announceMs: ANNOUNCE_MS, sessions: SESSIONS_PER_FARM, startPerSecond: START_PER_SECOND / Math.ceil(n / FARM_SIZE) };
      // The farm's first stdin line is its configuration; stdin stays open for kill/revive.
      const ready = await startWithFiles(slice.length + 4096, ['--import', 'tsx', here('./heartbeat-farm.ts')], /^READY (.*)$/, {
        input: `${JSON.stringify(config)}\n`,
        onLine: (line) => {
          if (line.startsWith('STATS ')) farm.stats = JSON.parse(line.slice(6)) as Farm['stats'];
          else farm.onLine(line);
        },
      });
      farm.child = ready.child;
      farm.endpoints = (JSON.parse(ready.match[1] ?? '[]') as [string, number][]).map(([host, p]) => ({ host, port: p }));
    }),
  );
  log(`${farms.length} farm process(es) listening on ${n.toLocaleString('en')} addresses after ${seconds(performance.now() - t0)} s; heartbeats every ${ANNOUNCE_MS} ms${leases ? ` with lease=${LEASE}` : ''}, ${SESSIONS_PER_FARM} sessions per farm`);

  // Registered = every endpoint up (each passed its admission probe, which checks its answers).
  const registerStarted = performance.now();
  let lastNote = registerStarted;
  for (;;) {
    const listed = await control.ask('LIST', (line) => line === 'END');
    const up = listed.filter((line) => line.split(' ')[4] === 'up').length;
    if (up === n) break;
    if (performance.now() - registerStarted > 60_000 + (n / START_PER_SECOND) * 1000) {
      log(`  only ${up.toLocaleString('en')} of ${n.toLocaleString('en')} up after ${seconds(performance.now() - registerStarted)} s: measuring anyway`);
      break;
    }
    if (performance.now() - lastNote > 5000) {
      lastNote = performance.now();
      log(`  registering: ${up.toLocaleString('en')} of ${n.toLocaleString('en')} up after ${seconds(lastNote - registerStarted)} s (heartbeat failures: ${failuresOf(farms)})`);
    }
    await sleep(n > 20_000 ? 2000 : 250);
  }
  const registerMs = performance.now() - registerStarted;
  log(`registration over after ${seconds(registerMs)} s (${trusted(n) ? 'ADD trusted, no admission probes' : 'each admitted by a probe that checked its answers'})`);

  // Each victim is killed only once LOOKUP has named it (state `reviving` until then): one whose
  // lease already lapsed would otherwise count as found dead at once.
  const victims: Victim[] = specs.slice(0, victimCount).map((spec, i) => {
    const endpoint = farms[0]?.endpoints[i] ?? { host: '', port: 0 };
    return { index: i, pair: [spec.a, spec.b], key: `${endpoint.host} ${endpoint.port}`, state: 'reviving', killedAt: 0, announcedAt: 0, lookupAt: 0, heard: new Map(), polling: false };
  });
  const byKey = new Map(victims.map((v) => [v.key, v]));
  const falseLapses = new Set<string>();
  const watchers = await Promise.all(Array.from({ length: WATCHERS }, () => Conversation.open(port)));
  const snapshotStarted = performance.now();
  await Promise.all(
    watchers.map(
      (watcher, w) =>
        new Promise<void>((synced) => {
          let live = false;
          watcher.watch(`WATCH as=lease-bench-${w}`, (line) => {
            if (!live) {
              if (line.startsWith('SYNCED ')) {
                live = true;
                synced();
              }
              return;
            }
            // CHANGE <epoch> <seq> <added|removed|health> <unit1> <unit2> <host> <port> <health>
            const [verb, , , kind, , , host, p, health] = line.split(' ');
            if (verb !== 'CHANGE' || (kind !== 'removed' && !(kind === 'health' && health !== 'up'))) return;
            const key = `${host} ${p}`;
            const victim = byKey.get(key);
            if (victim === undefined) falseLapses.add(key);
            else if (victim.state === 'dead' && !victim.heard.has(w)) victim.heard.set(w, Date.now());
          });
        }),
    ),
  );
  const snapshotMs = performance.now() - snapshotStarted;
  log(`${WATCHERS} watchers synced (snapshot of ${n.toLocaleString('en')} registrations in ${seconds(snapshotMs)} s, slowest)`);

  log(`steady state for ${STEADY_MS / 1000} s: heartbeats and routine probes only...`);
  const acks0 = farms.reduce((sum, farm) => sum + farm.stats.ok, 0);
  const cpu0 = cpuSeconds(pid);
  const machine0 = machineCpu();
  const steadyStarted = performance.now();
  await sleep(STEADY_MS);
  const steadyS = (performance.now() - steadyStarted) / 1000;
  const cpuSteady = (cpuSeconds(pid) - cpu0) / steadyS;
  const machine1 = machineCpu();
  const machineBusy = (machine1.busy - machine0.busy) / (machine1.total - machine0.total);
  const acksPerSecond = (farms.reduce((sum, farm) => sum + farm.stats.ok, 0) - acks0) / steadyS;
  log(`  discovery CPU ${(cpuSteady * 100).toFixed(0)}% of a core, ${Math.round(acksPerSecond).toLocaleString('en')} heartbeats acknowledged/s, machine ${(machineBusy * 100).toFixed(0)}% busy (load ${loadAverage()})`);

  const cpu1 = cpuSeconds(pid);
  const killsStarted = performance.now();
  const outcome = await killPhase({ port, control, farm: farms[0] as Farm, victims, kills: KILLS, watchers: WATCHERS, leaseMs: LEASE_MS, load: LOAD, lookups: lookupsFor(n, victimCount), log });
  const cpuKills = (cpuSeconds(pid) - cpu1) / ((performance.now() - killsStarted) / 1000);
  const { rss, peak } = memoryMb(pid);

  let floorRps = NaN;
  if (LOAD) {
    log('the bare floor, same requests, same farms still heartbeating...');
    const floor: number[] = [];
    for (let i = 0; i < Math.min(3, Math.max(1, outcome.rps.length)); i++) floor.push((await outcome.measure(barePort)).rps);
    floorRps = floor.reduce((sum, v) => sum + v, 0) / floor.length;
  }
  const row: Row = {
    n, trusted: trusted(n), leases, registerMs, snapshotMs, lookup: outcome.lookup, sinceAnnounce: outcome.sinceAnnounce, watch: outcome.watch, missedWatch: outcome.missedWatch, falseLapses: falseLapses.size,
    cpuSteady, cpuKills, machineBusy, load: loadAverage(), rss, peak, acksPerSecond, heartbeatFailures: failuresOf(farms),
    downBecause: [...reasons].map(([reason, count]) => `${reason} x${count}`).join(', ') || 'nothing went down',
    rps: outcome.rps.length > 0 ? outcome.rps.reduce((sum, v) => sum + v, 0) / outcome.rps.length : NaN, floorRps,
  };
  for (const conversation of [...watchers, control]) conversation.close();
  await Promise.all(farms.flatMap((farm) => (farm.child ? [stop(farm.child)] : [])));
  await stop(discovery.child, 10_000);
  rmSync(dir, { recursive: true, force: true });
  return row;
}

function lookupsFor(n: number, victimCount: number): string[] {
  const pools = Math.max(1, Math.ceil((n - victimCount) / POOL_SIZE));
  return Array.from({ length: 64 }, (_, i) => `LOOKUP p${(i * 7919) % pools}x p${(i * 7919) % pools}y`);
}

function failuresOf(farms: Farm[]): string {
  const total: Record<string, number> = {};
  for (const farm of farms) for (const [code, count] of Object.entries(farm.stats.failures)) total[code] = (total[code] ?? 0) + count;
  const text = Object.entries(total).map(([code, count]) => `${code} x${count}`).join(', ');
  return text === '' ? 'none' : text;
}

const fmt = (ms: number) => (Number.isFinite(ms) ? seconds(ms) : ms === Infinity ? 'never' : '-');

function table(rows: Row[]): void {
  const tenP99 = percentile([...(rows.find((r) => r.n === 10)?.lookup ?? [])].sort((a, b) => a - b), 99);
  log('');
  log(`node ${process.version}, ${process.env.BENCH_LABEL ?? 'this machine'}; heartbeats every ${ANNOUNCE_MS} ms with lease=${LEASE}, ${WATCHERS} watchers, LOOKUP polled every 20 ms`);
  log('| endpoints | leases | kills | out of LOOKUP p50 / p99 / max (s) | target | every watcher told p50 / p99 (s) | live endpoints falsely taken out | discovery CPU: heartbeats only / during kills and load | RSS (peak) MB | LOOKUP req/s (ratio to bare) | registered in (s) |');
  log('|---|---|---|---|---|---|---|---|---|---|---|');
  const verdicts: string[] = [];
  for (const r of rows) {
    const out = [...r.lookup].sort((a, b) => a - b);
    const heard = [...r.watch].sort((a, b) => a - b);
    const p99 = percentile(out, 99);
    const limit = r.n >= 100_000 ? 1.5 * tenP99 : LEASE_MS;
    const targetText = r.n >= 100_000 ? (Number.isFinite(tenP99) ? `p99 <= 1.5 x ${seconds(tenP99)} = ${seconds(limit)}` : 'p99 <= 1.5 x the 10-endpoint p99 (not run)') : `p99 <= ${LEASE_MS / 1000} (one lease)`;
    const met = Number.isFinite(limit) ? (p99 <= limit ? 'met' : 'MISSED') : 'n/a';
    verdicts.push(`${r.n.toLocaleString('en')}: ${met}`);
    log(
      `| ${r.n.toLocaleString('en')} | ${r.leases ? 'yes' : 'no (probes)'} | ${out.length} | ${fmt(percentile(out, 50))} / ${fmt(p99)} / ${fmt(out.at(-1) ?? NaN)} | ${targetText}: ${met} | ` +
        `${fmt(percentile(heard, 50))} / ${fmt(percentile(heard, 99))}${r.missedWatch > 0 ? ` (${r.missedWatch} never)` : ''} | ${r.falseLapses} | ` +
        `${(r.cpuSteady * 100).toFixed(0)}% / ${(r.cpuKills * 100).toFixed(0)}% | ${r.rss.toFixed(0)} (${r.peak.toFixed(0)}) | ` +
        `${Number.isFinite(r.rps) ? `${Math.round(r.rps).toLocaleString('en')} (${(r.rps / r.floorRps).toFixed(2)})` : 'no load'} | ${seconds(r.registerMs)}${r.trusted ? ' (trusted)' : ' (probed)'} |`,
    );
  }
  log('');
  for (const r of rows) {
    log(
      `${r.n.toLocaleString('en')}: last ADD written -> out of LOOKUP p50 ${fmt(percentile([...r.sinceAnnounce].sort((a, b) => a - b), 50))} s, max ${fmt(Math.max(...r.sinceAnnounce))} s (the lease is ${LEASE}); ` +
        `${Math.round(r.acksPerSecond).toLocaleString('en')} heartbeats acknowledged/s, heartbeat failures: ${r.heartbeatFailures}; down because: ${r.downBecause}; ` +
        `watch snapshot ${seconds(r.snapshotMs)} s; machine ${(r.machineBusy * 100).toFixed(0)}% busy in the steady state, load average ${r.load}; ` +
        `bare floor ${Number.isFinite(r.floorRps) ? Math.round(r.floorRps).toLocaleString('en') : '-'} req/s`,
    );
  }
  log(`targets: ${verdicts.join(', ')}`);
}

async function main(): Promise<void> {
  log('discovery liveness at scale: heartbeating endpoints with leases, some of them killed');
  log(`sizes ${SIZES.map((n) => n.toLocaleString('en')).join(', ')}; ${KILLS} kills per size; LOOKUP load (${LOAD ? '16 connections, closed loop' : 'off'}); ` +
    `10 and 10,000 take about 4 minutes together; 100,000 did not finish registering in 10 minutes on a saturated 2-core machine ` +
    `(discovery must read 67,000 heartbeats/s): BENCH_SIZES=10,10000 leaves it out. Ctrl-C stops it and every child.`);
  log(`machine: ${loadAverage()} load average at the start`);
  const bare = await start(process.execPath, ['--import', 'tsx', here('./bare-server.ts')], /listening on 127\.0\.0\.1:(\d+)/);
  const rows: Row[] = [];
  // The table so far after every size: a larger size that fails or is stopped leaves the smaller ones' figures.
  for (const n of SIZES) {
    rows.push(await runSize(n, Number(bare.match[1])));
    table(rows);
  }
  await stop(bare.child);
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    log(`\n${signal}: stopping every child`);
    killAll();
    process.exit(130);
  });
}
process.on('exit', () => {
  killAll();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

main()
  .catch((error: unknown) => {
    process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  })
  .finally(killAll);
