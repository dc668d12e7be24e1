import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Endpoint } from '@conv/protocol';
import { ServerError, askDiscovery, countFlag, durationFlag, formatAddress, hostFlag, logLevelFlag, portFlag, switchFlag, textFlag, validateFlags } from '@conv/server';
import { z } from 'zod';
import { version } from '../package.json';
import { defineCommand } from './command';
import { DEFAULT_DATA_DIR } from './data-dir';
import { Supervisor } from './supervisor';
import { COURSE_PAIRS, type ProcessSpec, type SystemOptions, converterSpecs, discoverySpecs, proxySpec } from './system';

const APPS = fileURLToPath(new URL('../../', import.meta.url));
const scriptFor = (spec: ProcessSpec) => join(APPS, spec.role, 'dist', 'main.js');

/**
 * `conv up`: discovery, then every converter (which register themselves), then the proxy; waits
 * until discovery has probed every converter healthy, prints one banner, and on Ctrl-C stops
 * converters first (they deregister), then the proxy, then discovery.
 */
const UpConfigSchema = z
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
    readyTimeout: durationFlag().default(30_000),
    /** `etcd://host:port[,...]`: discovery keeps the registry in etcd (instead of data/discovery.db). */
    store: z.string().regex(/^etcd:\/\/\S+$/, { message: 'must be etcd://host:port[,host:port...], such as etcd://127.0.0.1:2379' }).optional(),
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
      'data-dir': { describe: 'registry file and logs', default: 'data' },
      'check-interval': { describe: 'discovery health-check interval', default: '1s' },
      restart: { type: 'boolean', describe: 'restart a process that dies (--no-restart to watch failures)', default: 'true' },
      'log-level': { describe: 'error, warn, info or debug', default: 'info' },
      'ready-timeout': { describe: 'how long to wait for every converter to be healthy', default: '30s' },
      store: { describe: 'keep the registry in etcd (etcd://127.0.0.1:2379, see `conv etcd`) instead of data/discovery.db' },
      'discovery-replicas': { describe: 'discovery replicas sharing the etcd registry, on ports 5555, 5557, ... (needs --store)', default: '1' },
    },
  },
  read(line) {
    if (line.positionals.length > 0) throw new ServerError('USAGE', `unexpected argument ${JSON.stringify(line.positionals[0])}`);
    return validateFlags(UpConfigSchema, line.flags);
  },
  run: (config, out) => up(config, (text) => out.say(text)),
});

export async function up(config: UpConfig, say: (line: string) => void): Promise<number> {
  mkdirSync(config.dataDir, { recursive: true });
  const logDir = join(config.dataDir, 'logs');
  mkdirSync(logDir, { recursive: true });
  const dbPath = join(config.dataDir, 'discovery.db');
  // A fresh registry each run: what a previous run registered is gone with its processes.
  for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(dbPath + suffix, { force: true });

  const httpPorts = await operatorPorts(config);
  const options: SystemOptions = { ...config, dbPath, logLevel: config.logLevel, httpPorts };
  const statusAddress = formatAddress({ host: config.host, port: httpPorts.discovery });
  // Who is where, for people who want to kill a process and watch the system cope.
  const processesFile = join(config.dataDir, 'processes.json');
  const supervisor = new Supervisor({
    script: scriptFor,
    logDir,
    restart: config.restart,
    say,
    onListening: (processes) => {
      const table = processes.map((p) => ({ name: p.spec.name, pid: p.child.pid, port: p.port }));
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
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void stop().then(resolve));
  });

  try {
    const started = Date.now();
    // One discovery with its SQLite file, or (--store etcd://...) replicas sharing one registry.
    const replicas = [];
    for (const spec of discoverySpecs(options)) replicas.push(await supervisor.start(spec));
    const discovery = replicas[0]!;
    const discoveryAddress: Endpoint = { host: config.host, port: discovery.port };
    const discoveryAddresses: Endpoint[] = replicas.map((replica) => ({ host: config.host, port: replica.port }));
    const converters = await Promise.all(converterSpecs(options, discoveryAddresses).map((spec) => supervisor.start(spec)));
    const proxy = await supervisor.start(proxySpec(options, discoveryAddresses));
    const healthy = await waitUntilHealthy(discoveryAddress, converters.length, config.readyTimeout);
    const rel = (path: string) => relative(process.cwd(), path) || '.';
    const byPair = COURSE_PAIRS.map(([a, b]) => {
      const ports = converters.filter((c) => c.spec.name.startsWith(`converter ${a}:${b} `)).map((c) => c.port);
      return `${a}<->${b} ${ports.join(',')}`;
    });
    say(
      [
        `conv is up in ${((Date.now() - started) / 1000).toFixed(1)} s; ${healthy} of ${converters.length} converters healthy.`,
        ...replicas.map(
          (replica) =>
            `  discovery   ${formatAddress({ host: config.host, port: replica.port })}   registry ${config.store ?? rel(dbPath)}${config.store ? ' (shared)' : ''} (pid ${replica.child.pid})`,
        ),
        `  status      http://${statusAddress}/   live status page; in a terminal: npx pnpm@10.34.8 -s conv status${httpPorts.discovery === 5580 ? '' : ` --http ${statusAddress}`}`,
        `  metrics     Prometheus text at /metrics: discovery :${httpPorts.discovery}, ${
          httpPorts.proxy === 0 ? 'proxy and converters on free ports (their logs say which: http-listening)' : `proxy :${httpPorts.proxy}, converters ${httpPorts.converter === 0 ? 'on free ports' : `:${httpPorts.converter}-${httpPorts.converter + converters.length - 1}`}`
        }`,
        `  proxy       listening on ${formatAddress({ host: config.host, port: proxy.port })} (pid ${proxy.child.pid})`,
        `  converters  ${byPair.join('; ')}`,
        `  logs        ${rel(logDir)}/      pids: ${rel(processesFile)}`,
        'Ask it (in another terminal):',
        `  npx pnpm@10.34.8 -s conv 56.34 '$' cm        # dollars of bananas, laid end to end, in cm`,
        `  npx pnpm@10.34.8 -s conv 150 b ft            # 150 bananas end to end, in feet`,
        `  npx pnpm@10.34.8 -s conv 43 gK y             # yen for bananas with 43 g of potassium`,
        'Kill any converter or the discovery server (kill -9 <pid>): answers keep coming, and conv restarts it.',
        'Ctrl-C stops everything.',
      ].join('\n'),
    );
  } catch (error) {
    say(`conv: could not start the system: ${(error as Error).message}`);
    await stop();
    return 1;
  }
  await stopped;
  return 0;
}

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

/** Polls discovery's LIST until `expected` registrations are up; returns how many are. */
async function waitUntilHealthy(discovery: Endpoint, expected: number, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let up = 0;
  while (Date.now() < deadline) {
    const reply = await askDiscovery(discovery, { verb: 'LIST' }, { timeoutMs: 2000 }).catch(() => undefined);
    if (reply?.kind === 'list') {
      up = reply.registrations.filter((r) => r.health === 'up').length;
      if (up >= expected) return up;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return up;
}
