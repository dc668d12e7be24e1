import {
  type CommandSpec,
  ServerError,
  countFlag,
  durationFlag,
  edgeFlags,
  formatDuration,
  hostFlag,
  logLevelFlag,
  parseDuration,
  portFlag,
  readCommandLine,
  switchFlag,
  textFlag,
  tokenFlag,
  validateFlags,
} from '@conv/server';
import { z } from 'zod';
import { version } from '../package.json';

/** `etcd://127.0.0.1:2379[,127.0.0.1:22379...]` -> the members' `host:port`. */
const storeFlag = () =>
  z.string().transform((value, ctx) => {
    const match = /^etcd:\/\/(.+)$/.exec(value.trim());
    const members = match?.[1]?.split(',') ?? [];
    const member = /^(?:\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):([1-9][0-9]{0,4})$/;
    if (members.length > 0 && members.every((m) => member.test(m) && Number(member.exec(m)?.[1]) <= 65535)) {
      return { kind: 'etcd' as const, endpoints: members };
    }
    ctx.addIssue({ code: 'custom', message: 'must be etcd://<host>:<port>[,<host>:<port>...], such as etcd://127.0.0.1:2379' });
    return z.NEVER;
  });

/** The validated configuration of one discovery process; the single source of truth for defaults and types. */
export const ConfigSchema = z.strictObject({
  port: portFlag().default(5555),
  host: hostFlag().default('127.0.0.1'),
  db: textFlag("a file path or ':memory:'").default('discovery.db'),
  checkIntervalMs: durationFlag({ zeroTurnsOff: true }).default(2_000),
  checkTimeoutMs: durationFlag().default(1_000),
  checkConcurrency: countFlag(1, 10_000).default(64),
  maxProbeRate: countFlag(0, 1_000_000).default(500),
  /**
   * Probes in a thread of their own, off the thread that answers requests. Off by default: on two
   * cores it cut the main thread's CPU per LOOKUP_MULTI but lost LOOKUP throughput to the
   * thread's own (see the README's benchmark); with cores to spare it is the better choice.
   */
  probeThread: switchFlag().default(false),
  failThreshold: countFlag(1, 1000).default(2),
  passThreshold: countFlag(1, 1000).default(2),
  downGraceMs: durationFlag({ zeroTurnsOff: true }).default(60_000),
  pendingGraceMs: durationFlag({ zeroTurnsOff: true }).default(60_000),
  trustRegistrations: switchFlag().default(false),
  /**
   * The seed's telnet demo with fake addresses: ADD trusted, no probes at all, every connection
   * kept open as after SESSION, the registry in memory. Implies --trust-registrations --check-interval 0.
   */
  classroom: switchFlag().default(false),
  /** New registrations still waiting for their first good probe: caps per source address and in all (benchmarks raise them). */
  maxPendingPerSource: countFlag(1, 10_000_000).default(256),
  maxPending: countFlag(1, 10_000_000).default(4096),
  /** Admission probes per second at most, taken in turn across sources; 0 = no limit. */
  admissionRate: countFlag(0, 1_000_000).default(200),
  /** Shared secret that ADD and REMOVE must carry; none by default. Never logged or echoed. */
  token: tokenFlag().optional(),
  greeting: switchFlag().default(false),
  maxConnections: countFlag(1, 1_000_000).default(1024),
  idleTimeoutMs: durationFlag({ zeroTurnsOff: true }).default(60_000),
  /** Without SESSION, how long after its last reply a connection waits for another request before it is closed. */
  closeGraceMs: durationFlag().default(250),
  shutdownTimeoutMs: durationFlag({ zeroTurnsOff: true }).default(2_000),
  maxLineBytes: countFlag(64, 1 << 20).default(4096),
  /** The operator's HTTP port (metrics, health, status page); off unless given. */
  httpPort: portFlag().optional(),
  /** A shared registry in etcd instead of the SQLite file (`--db`); the two are exclusive. */
  store: storeFlag().optional(),
  /**
   * Ignored since registrations ask for their own lease (ADD ... lease=): one without a lease has
   * no etcd lease at all. Still accepted so that existing command lines keep starting.
   */
  leaseTtlMs: durationFlag({ min: 1000 }).default(15_000),
  /** With --store: the deadline of one call to etcd (an ADD answers UNAVAILABLE after about this long). */
  etcdTimeoutMs: durationFlag().default(2_000),
  /**
   * On a SESSION or WATCH connection, how long an ADD or REMOVE waiting for etcd may hold the
   * replies pipelined behind it: half the proxy's 1 s wait for discovery, so its lookups never time out behind one.
   */
  sessionWriteWaitMs: durationFlag({ zeroTurnsOff: true }).default(500),
  logLevel: logLevelFlag().default('info'),
});

export type Config = Readonly<z.output<typeof ConfigSchema>>;

/** Every default, as the schema states them (the help text shows these). */
export const DEFAULTS: Config = ConfigSchema.parse({});

const show = (ms: number) => formatDuration(ms);

export const COMMAND: CommandSpec = {
  name: 'discovery',
  version,
  usage: 'discovery [port] [options]\n\nThe conv discovery server: a durable, health-checking registry of conversion servers.',
  positionals: ['port'],
  flags: {
    port: { describe: 'port to listen on (0: any free port); also the first argument', default: String(DEFAULTS.port) },
    host: { describe: 'address to listen on', default: DEFAULTS.host },
    db: { describe: 'registry file, or :memory:', default: `./${DEFAULTS.db}` },
    'check-interval': { type: 'duration', describe: 'health-check period per endpoint; 0 turns periodic checks off', default: show(DEFAULTS.checkIntervalMs) },
    'check-timeout': { type: 'duration', describe: 'time limit of one probe', default: show(DEFAULTS.checkTimeoutMs) },
    'check-concurrency': { describe: 'probes in flight at most', default: String(DEFAULTS.checkConcurrency) },
    'max-probe-rate': { describe: 'routine probes per second at most, across all endpoints; a large registry stretches its interval instead of starving requests; 0 = no limit', default: String(DEFAULTS.maxProbeRate) },
    'probe-thread': { type: 'boolean', describe: 'run the probes in a thread of their own, off the one that answers requests (for machines with cores to spare)' },
    'fail-threshold': { describe: 'consecutive failed probes that mark an endpoint down', default: String(DEFAULTS.failThreshold) },
    'pass-threshold': { describe: 'consecutive good probes that bring it back up', default: String(DEFAULTS.passThreshold) },
    'down-grace': { type: 'duration', describe: 'remove an endpoint down this long', default: show(DEFAULTS.downGraceMs) },
    'pending-grace': { type: 'duration', describe: 'remove an endpoint never proven up this long', default: show(DEFAULTS.pendingGraceMs) },
    'trust-registrations': { type: 'boolean', describe: 'ADD is up at once, without the admission probe' },
    classroom: {
      type: 'boolean',
      describe: "the seed's telnet demo with fake addresses: ADD trusted, no health checks or probes, connections stay open without SESSION, registry in memory",
    },
    'max-pending-per-source': { describe: 'registrations from one address still waiting for their first health check, at most; more ADDs get TOO_MANY_PENDING', default: String(DEFAULTS.maxPendingPerSource) },
    'max-pending': { describe: 'registrations still waiting for their first health check, at most, from everyone', default: String(DEFAULTS.maxPending) },
    'admission-rate': { describe: 'admission probes (of new ADDs) per second at most, fair across sources; 0 = no limit', default: String(DEFAULTS.admissionRate) },
    token: { describe: 'shared secret that ADD and REMOVE must carry as token=<secret> (or set CONV_TOKEN); never logged' },
    greeting: { type: 'boolean', describe: 'send a HELLO line to each new connection' },
    'close-grace': { type: 'duration', describe: 'without SESSION, close a connection this long after its last reply (course clients read until the server closes)', default: show(DEFAULTS.closeGraceMs) },
    'max-line-bytes': { describe: 'longest request line', default: String(DEFAULTS.maxLineBytes) },
    store: { describe: 'keep the registry in etcd, shared with other discovery replicas: etcd://host:port[,host:port...] (default: the SQLite file of --db)' },
    'lease-ttl': { type: 'duration', describe: 'ignored (kept for old command lines): a registration asks for its own lease with ADD ... lease=<duration>, and one without a lease stays until removed' },
    'etcd-timeout': { type: 'duration', describe: 'with --store: the deadline of one call to etcd; ADD and REMOVE answer UNAVAILABLE after it', default: show(DEFAULTS.etcdTimeoutMs) },
    'session-write-wait': { type: 'duration', describe: 'with --store: on a SESSION or WATCH connection, an ADD or REMOVE still waiting for etcd after this long is answered UNAVAILABLE (not confirmed) so that the requests pipelined behind it are not held; 0 = wait as long as etcd takes', default: show(DEFAULTS.sessionWriteWaitMs) },
    ...edgeFlags(DEFAULTS, { idle: 'close a connection silent this long; 0 = never', shutdownWaitsFor: 'connections to take their last replies', httpServes: '/metrics, /healthz and the status page (/)' }),
  },
};

/** Validates flags into a frozen Config; throws ServerError USAGE naming the first bad flag. */
export function validateConfig(input: Readonly<Record<string, unknown>>): Config {
  if (input.store !== undefined && input.db !== undefined) {
    throw new ServerError('USAGE', '--store and --db are exclusive: the registry is either in etcd or in a SQLite file');
  }
  if (input.classroom === true) return validateFlags(ConfigSchema, classroomInput(input));
  return validateFlags(ConfigSchema, input);
}

/** Flags that classroom mode sets: giving them too, with another value, would be a contradiction. */
const CLASSROOM_SETS: Readonly<Record<string, unknown>> = { trustRegistrations: true, checkIntervalMs: '0' };

/**
 * --classroom: nothing probed (the seed's addresses have no servers behind them) and nothing kept
 * (a demo's fake addresses must not be restored, and probed, by the next real run).
 */
function classroomInput(input: Readonly<Record<string, unknown>>): Record<string, unknown> {
  for (const key of ['db', 'store'] as const) {
    if (input[key] !== undefined) throw new ServerError('USAGE', `--classroom keeps the registry in memory; --${key} cannot be given with it`);
  }
  if (input.trustRegistrations === false) throw new ServerError('USAGE', '--classroom trusts registrations; --no-trust-registrations contradicts it');
  const interval = input.checkIntervalMs;
  if (interval !== undefined && interval !== 0 && !(typeof interval === 'string' && parseDuration(interval) === 0)) {
    throw new ServerError('USAGE', '--classroom turns health checks off; --check-interval cannot be given with it (other than 0)');
  }
  return { ...input, ...CLASSROOM_SETS, db: ':memory:' };
}

/** `discovery [port] [flags]` -> text to print (--help, --version) or a validated Config. */
export function readConfig(argv: readonly string[], env: NodeJS.ProcessEnv = {}): { kind: 'print'; text: string } | { kind: 'run'; config: Config } {
  const line = readCommandLine(COMMAND, argv);
  if (line.kind === 'print') return line;
  const input: Record<string, unknown> = { ...line.flags };
  // The seed's form `discovery 5555`: the first argument is the port.
  const [port] = line.positionals;
  if (port !== undefined) {
    if (input.port !== undefined) throw new ServerError('USAGE', '--port was given twice (as a flag and as the first argument)');
    input.port = port;
  }
  // The environment keeps the secret out of `ps` listings; a flag, when given, wins.
  if (input.token === undefined && env.CONV_TOKEN) input.token = env.CONV_TOKEN;
  return { kind: 'run', config: validateConfig(input) };
}
