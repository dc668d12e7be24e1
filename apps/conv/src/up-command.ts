import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { availableParallelism } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Endpoint } from '@conv/protocol';
import {
  ServerError,
  askDiscovery,
  countFlag,
  durationFlag,
  hostFlag,
  logLevelFlag,
  portFlag,
  switchFlag,
  textFlag,
  validateFlags,
} from '@conv/server';
import { z } from 'zod';
import { version } from '../package.json';
import { defineCommand } from './command';
import { DEFAULT_DATA_DIR } from './data-dir';
import { startLimit } from './start-budget';
import { type Running, Supervisor, machineLoad } from './supervisor';
import {
  COURSE_PAIRS,
  type CoursePair,
  type ProcessSpec,
  type SystemOptions,
  converterSpecs,
  discoveryHttpPort,
  discoverySpecs,
  proxySpec,
} from './system';
import { formatAddress } from '@conv/protocol';

const APPS = fileURLToPath(new URL('../../', import.meta.url));
const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const scriptFor = (spec: ProcessSpec) => join(APPS, spec.role, 'dist', 'main.js');

/** `ft:in,in:cm` as course pairs (either order of a pair's units), or what is wrong with it. */
export function parsePairs(text: string): readonly CoursePair[] | string {
  const words = text.split(',').map((word) => word.trim()).filter((word) => word !== '');
  const known = COURSE_PAIRS.map(([a, b]) => `${a}:${b}`).join(',');
  if (words.length === 0) return `must name at least one of the course's pairs: ${known}`;
  const chosen: CoursePair[] = [];
  for (const word of words) {
    const [a, b, extra] = word.split(':');
    const pair = extra === undefined ? COURSE_PAIRS.find(([x, y]) => (x === a && y === b) || (x === b && y === a)) : undefined;
    if (!pair) return `must name course pairs only; ${JSON.stringify(word)} is not one of ${known}`;
    if (!chosen.includes(pair)) chosen.push(pair);
  }
  return chosen;
}

/** `etcd://` and one or more `host:port` (IPv6 as `[::1]:2379`), comma-separated. */
const STORE_URL = /^etcd:\/\/(?:\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}(?:,(?:\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5})*$/;

export const UpConfigSchema = z
  .strictObject({
    host: hostFlag().default('127.0.0.1'),
    discoveryPort: portFlag().default(5555),
    /** Discovery's status page and metrics; the proxy takes the next port. Default --discovery-port + 25 (5580), 0 with port 0. */
    httpPort: portFlag().optional(),
    proxyPort: portFlag().default(5556),
    converterPort: portFlag().default(6001),
    replicas: countFlag(1, 10).default(2),
    dataDir: textFlag('a folder').default(DEFAULT_DATA_DIR),
    /** Passed to discovery as typed, once checked. */
    checkInterval: z.string().refine((text) => durationFlag().safeParse(text).success, { message: 'must be a duration such as 500ms, 2s or 1m' }).default('1s'),
    restart: switchFlag().default(true),
    logLevel: logLevelFlag().default('info'),
    /** Spawn-to-banner limit for each process on an idle machine; `conv up` stretches it by the load. */
    startTimeout: durationFlag().default(15_000),
    /** Processes starting at once, at most; default 4 per core. */
    startConcurrency: countFlag(1, 64).optional(),
    /** How long, without one more converter turning healthy, before `conv up` stops waiting; stretched by the load too. */
    readyTimeout: durationFlag().default(30_000),
    /** A subset of the course's pairs (`ft:in,in:cm`), for a smaller system; default all eleven. */
    pairs: z
      .string()
      .transform((text, ctx) => {
        const chosen = parsePairs(text);
        if (typeof chosen !== 'string') return chosen;
        ctx.addIssue({ code: 'custom', message: chosen });
        return z.NEVER;
      })
      .default(COURSE_PAIRS),
    /** `etcd://host:port[,...]`: discovery keeps the registry in etcd (instead of data/discovery.db). */
    store: z
      .string()
      .refine((url) => STORE_URL.test(url), { message: 'must be etcd://host:port[,host:port...], such as etcd://127.0.0.1:2379 (or the list `conv etcd --members 3` prints)' })
      .optional(),
    discoveryReplicas: countFlag(1, 5).default(1),
  })
  .refine((c) => c.discoveryReplicas === 1 || c.store !== undefined, {
    message: 'needs --store etcd://... above 1: replicas share their registry through etcd',
    path: ['discoveryReplicas'],
  });
export type UpConfig = z.output<typeof UpConfigSchema>;

export const upCommand = defineCommand({
  spec: {
    name: 'conv up',
    version,
    usage: "conv up [options]\n\nStarts discovery, the proxy and two converters for each of the course's eleven pairs, on loopback.",
    flags: {
      host: { describe: 'address every server listens on', default: '127.0.0.1' },
      'discovery-port': { describe: 'discovery (replicas on the following odd ports: +2, +4...)', default: '5555' },
      'http-port': { describe: 'status page and metrics of discovery; the proxy takes the next port', default: '--discovery-port + 25, i.e. 5580' },
      'proxy-port': { describe: 'the proxy', default: '5556' },
      'converter-port': { describe: 'first converter port (0: any free port)', default: '6001' },
      replicas: { describe: 'converters per pair', default: '2' },
      pairs: { describe: 'run converters for these course pairs only, e.g. ft:in,in:cm', default: 'all eleven' },
      'data-dir': { describe: 'registry file and logs', default: 'data' },
      'check-interval': { describe: 'discovery health-check interval', default: '1s' },
      restart: { type: 'boolean', describe: 'restart a process that dies (--no-restart to watch failures)', default: 'true' },
      'log-level': { describe: 'error, warn, info or debug', default: 'info' },
      'start-timeout': { describe: 'how long a process may take to print its banner on an idle machine; stretched by the load average per core', default: '15s' },
      'start-concurrency': { describe: 'processes starting at once', default: '4 per core' },
      'ready-timeout': { describe: 'how long to wait for one more converter to be checked healthy, stretched like --start-timeout', default: '30s' },
      store: { describe: "keep the registry in etcd (etcd://127.0.0.1:2379, or a cluster's members etcd://a,b,c; see `conv etcd`) instead of data/discovery.db" },
      'discovery-replicas': { describe: 'discovery replicas sharing the etcd registry, on ports 5555, 5557, ... (needs --store)', default: '1' },
    },
  },
  read(line) {
    if (line.positionals.length > 0) throw new ServerError('USAGE', `unexpected argument ${JSON.stringify(line.positionals[0])}`);
    return validateFlags(UpConfigSchema, line.flags);
  },
  run: (config, out) => up(config, (text) => out.say(text)),
});

/**
 * `conv up`: discovery, then every converter (which register themselves) and the proxy, a few
 * at a time; waits until discovery has probed every converter healthy, prints one banner, and on
 * Ctrl-C (or SIGTERM, SIGHUP) stops converters first (they deregister), then the proxy, then discovery.
 * Its children are out of the terminal's reach (their own process groups), so the order holds
 * whether the terminal signals `conv up` alone or its whole group; they die with it if it is
 * killed (stopWhenSupervisorLeaves).
 */
export async function up(config: UpConfig, say: (line: string) => void): Promise<number> {
  mkdirSync(config.dataDir, { recursive: true });
  const logDir = join(config.dataDir, 'logs');
  mkdirSync(logDir, { recursive: true });
  const dbPath = join(config.dataDir, 'discovery.db');
  // A fresh registry each run: what a previous run registered is gone with its processes.
  for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(dbPath + suffix, { force: true });

  const httpPorts = await operatorPorts(config);
  const options: SystemOptions = { ...config, dbPath, logLevel: config.logLevel, httpPorts };
  // Who is where, for people who want to kill a process and watch the system cope.
  const processesFile = join(config.dataDir, 'processes.json');
  // Several per core: each start also waits (spawn, file reads, its first connections), and
  // beside other busy processes more of ours get more of the CPU. Measured on 2 busy cores:
  // 2 at a time took 27-32 s for the whole system, 8 took 12 s, all 24 took 9 s.
  const concurrency = config.startConcurrency ?? 4 * availableParallelism();
  const supervisor = new Supervisor({
    script: scriptFor,
    logDir,
    restart: config.restart,
    say,
    startTimeoutMs: config.startTimeout,
    concurrency,
    onListening: (processes) => {
      const table = processes.filter((p) => p.listeningAt !== undefined).map((p) => ({ name: p.spec.name, pid: p.child.pid, port: p.port }));
      writeFileSync(processesFile, `${JSON.stringify(table, null, 2)}\n`);
    },
  });
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      say('conv: stopping converters, proxy, discovery...');
      const byRole = (role: string) => supervisor.processes.filter((p) => p.spec.role === role);
      await supervisor.stop([byRole('converter'), byRole('proxy'), byRole('discovery')]);
      say('conv: stopped.');
    })();
    return stopping;
  };
  const stopped = new Promise<void>((resolve) => {
    // Every signal, not once: a second one (pnpm forwards the terminal's Ctrl-C, which reached
    // us too) must not kill us halfway through the ordered stop, which is bounded anyway.
    // SIGHUP: the terminal closed; stop in order rather than leave it to the children.
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => void stop().then(resolve));
  });

  const rel = (path: string) => relative(process.cwd(), path) || '.';
  const conv = rel(join(REPO, 'bin', 'conv'));
  try {
    const started = performance.now();
    // One discovery with its SQLite file, or (--store etcd://...) replicas sharing one registry.
    const replicas: Running[] = [];
    for (const spec of discoverySpecs(options)) replicas.push(await supervisor.start(spec));
    const discovery = replicas[0]!;
    const discoveryAddress: Endpoint = { host: config.host, port: discovery.port };
    const discoveryAddresses: Endpoint[] = replicas.map((replica) => ({ host: config.host, port: replica.port }));
    // The supervisor starts `concurrency` at a time, in this order.
    const converterStarts = converterSpecs(options, discoveryAddresses).map((spec) => supervisor.start(spec));
    const proxyStart = supervisor.start(proxySpec(options, discoveryAddresses));
    const [converters, proxy] = await Promise.all([Promise.all(converterStarts), proxyStart]);
    const listening = performance.now();
    const readyLimit = startLimit(config.readyTimeout, machineLoad(), 0).ms;
    const health = await waitUntilHealthy(discoveryAddress, converters.length, readyLimit);
    const ready = performance.now();
    const byPair = (options.pairs ?? []).map(([a, b]) => {
      const ports = converters.filter((c) => c.spec.name.startsWith(`converter ${a}:${b} `)).map((c) => c.port);
      return `${a}<->${b} ${ports.join(',')}`;
    });
    const all = [...replicas, ...converters, proxy];
    const perProcess = all.map((p) => (p.listeningAt ?? p.spawnedAt) - p.spawnedAt).sort((x, y) => x - y);
    const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
    const unhealthy = converters.filter((c) => !health.up.has(c.port)).map((c) => `${c.spec.name} (:${c.port})`);
    say(
      [
        `conv is up in ${seconds(ready - started)}; ${health.up.size} of ${converters.length} converters healthy.`,
        ...(unhealthy.length > 0 ? [`  not healthy yet: ${unhealthy.join(', ')}; see their logs, and conv status`] : []),
        `  started     ${all.length} processes in ${seconds(listening - started)}, ${concurrency} at a time (${seconds(perProcess[perProcess.length >> 1] ?? 0)} each, the slowest ${seconds(perProcess[perProcess.length - 1] ?? 0)}); all checked healthy ${seconds(ready - listening)} later`,
        ...replicas.map(
          (replica) =>
            `  discovery   ${formatAddress({ host: config.host, port: replica.port })}   registry ${config.store ?? rel(dbPath)}${config.store ? ' (shared)' : ''} (pid ${replica.child.pid})`,
        ),
        ...statusLines(options, replicas.length, conv),
        `  metrics     Prometheus text at /metrics: discovery :${httpPorts.discovery}, ${
          httpPorts.proxy === 0 ? 'proxy and converters on free ports (their logs say which: http-listening)' : `proxy :${httpPorts.proxy}, converters ${httpPorts.converter === 0 ? 'on free ports' : `:${httpPorts.converter}-${httpPorts.converter + converters.length - 1}`}`
        }`,
        `  proxy       listening on ${formatAddress({ host: config.host, port: proxy.port })} (pid ${proxy.child.pid})`,
        `  converters  ${byPair.join('; ')}`,
        `  logs        ${rel(logDir)}/      pids: ${rel(processesFile)}`,
        'Ask it (in another terminal):',
        ...askExamples(conv, config.proxyPort === 5556 ? '' : ` --proxy ${formatAddress({ host: config.host, port: proxy.port })}`, options.pairs ?? []),
        'Kill any converter or the discovery server (kill -9 <pid>): answers keep coming, and conv restarts it.',
        'Ctrl-C stops everything, converters first so that they deregister.',
      ].join('\n'),
    );
  } catch (error) {
    if (stopping) {
      // Ctrl-C while starting: what was asked for, not a failure.
      await stopping;
      return 0;
    }
    say(`conv: could not start the system: ${(error as Error).message}`);
    await stop();
    return 1;
  }
  await stopped;
  return 0;
}

/**
 * One status line per discovery replica: each serves its own page (its view of the shared
 * registry, its probes), and a replica's page is how to see it has caught up.
 */
function statusLines(options: SystemOptions, replicas: number, conv: string): string[] {
  return Array.from({ length: replicas }, (_, replica) => {
    const address = formatAddress({ host: options.host, port: discoveryHttpPort(options, replica) ?? 0 });
    const terminal = `in a terminal: ${conv} status${address === formatAddress({ host: '127.0.0.1', port: 5580 }) ? '' : ` --http ${address}`}`;
    const label = replicas === 1 ? 'status     ' : `status #${replica + 1}  `;
    return `  ${label} http://${address}/   live status page${replica === 0 ? '' : ` of discovery #${replica + 1}`}; ${terminal}`;
  });
}

/** Questions to try, the course's own when every pair runs; with `--pairs`, one per pair run. */
function askExamples(conv: string, proxyFlag: string, pairs: readonly (readonly [string, string])[]): string[] {
  const examples: [string, string][] =
    pairs.length === COURSE_PAIRS.length
      ? [
          ["56.34 '$' cm", 'dollars of bananas, laid end to end, in cm'],
          ['150 b ft', '150 bananas end to end, in feet'],
          ['43 gK y', 'yen for bananas with 43 g of potassium'],
        ]
      : pairs.slice(0, 3).map(([a, b]) => [`1 ${quoteUnit(a)} ${quoteUnit(b)}`, `one ${a} in ${b}`]);
  const width = Math.max(...examples.map(([question]) => `${conv}${proxyFlag} ${question}`.length)) + 2;
  return examples.map(([question, why]) => `  ${`${conv}${proxyFlag} ${question}`.padEnd(width)}# ${why}`);
}

const quoteUnit = (unit: string) => (unit === '$' ? "'$'" : unit);

/**
 * The operator HTTP ports: discovery's status page on --http-port (default: the discovery port
 * + 25, so 5580 for 5555, and two systems on different ports never collide), the proxy's metrics
 * on the next port, converters' from --converter-port + 1000 (7001-7022). With port 0 (tests),
 * the status page's port is picked free here so the banner can name it; the rest take any.
 */
async function operatorPorts(config: UpConfig): Promise<{ discovery: number; proxy: number; converter: number }> {
  const chosen = config.httpPort ?? (config.discoveryPort === 0 ? 0 : Math.min(65535, config.discoveryPort + 25));
  if (chosen === 0) return { discovery: await freePort(config.host), proxy: 0, converter: 0 };
  return { discovery: chosen, proxy: chosen + 1, converter: config.converterPort === 0 ? 0 : config.converterPort + 1000 };
}

/** A port free right now on `host` (another process could take it before us: tests only). */
function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Polls discovery's LIST until `expected` registrations are up; gives up only after
 * `patienceMs` without one more turning up (a busy machine is slow, not broken). Returns the
 * ports that are up.
 */
async function waitUntilHealthy(discovery: Endpoint, expected: number, patienceMs: number): Promise<{ up: Set<number> }> {
  let deadline = performance.now() + patienceMs;
  let up = new Set<number>();
  for (;;) {
    const reply = await askDiscovery(discovery, { verb: 'LIST' }, { timeoutMs: 2000 }).catch(() => undefined);
    if (reply?.kind === 'list') {
      const now = new Set(reply.registrations.filter((r) => r.health === 'up').map((r) => r.endpoint.port));
      if (now.size > up.size) deadline = performance.now() + patienceMs;
      up = now;
      if (up.size >= expected) return { up };
    }
    if (performance.now() > deadline) return { up };
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
