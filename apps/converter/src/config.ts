import { MAX_LEASE_MS, MIN_LEASE_MS, parseAmount, parseUnit } from '@conv/protocol';
import {
  type CommandSpec,
  ServerError,
  countFlag,
  durationFlag,
  edgeFlags,
  endpointsFlag,
  formatDuration,
  hostFlag,
  logLevelFlag,
  portFlag,
  flagsOf,
  readCommandLine,
  switchFlag,
  tokenFlag,
  validateFlags,
} from '@conv/server';
import { z } from 'zod';
import { version } from '../package.json';

/** Listen addresses that mean "every interface": never an address others can use. */
const WILDCARD_HOSTS = new Set(['0.0.0.0', '::']);

const must = (ctx: z.core.$RefinementCtx, message: string): never => {
  ctx.addIssue({ code: 'custom', message });
  return z.NEVER;
};

const pairFlag = () =>
  z.string().transform((text, ctx) => {
    const parts = text.split(':');
    const [a = '', b = ''] = parts;
    if (parts.length === 2 && parseUnit(a).ok && parseUnit(b).ok && a !== b) return [a, b] as const;
    return must(ctx, 'must be two different unit symbols joined by ":", such as ft:in or $:y');
  });

const decimalFlag = (what: string, nonZero: boolean) =>
  z.union([z.string(), z.number()]).transform((value, ctx) => {
    const parsed = parseAmount(String(value).trim());
    if (parsed.ok && (!nonZero || parsed.value !== 0)) return parsed.value;
    return must(ctx, `must be a ${what} such as 2.54 or 1e-3`);
  });

/** The converter's configuration: one schema is the source of truth for every flag's default and type. */
export const ConfigSchema = z
  .strictObject({
    port: portFlag().default(0),
    pair: pairFlag().default(['ft', 'in']),
    factor: decimalFlag('non-zero decimal number', true).optional(),
    offset: decimalFlag('decimal number', false).optional(),
    discovery: endpointsFlag().default([{ host: '127.0.0.1', port: 5555 }]),
    host: hostFlag().default('127.0.0.1'),
    advertise: hostFlag().optional(),
    register: switchFlag().default(true),
    announceIntervalMs: durationFlag({ min: 10 }).default(5_000),
    reannounce: switchFlag().default(true),
    /** To a discovery that lists `lease`: the lease asked for with each ADD; 0 asks for none. */
    leaseMs: durationFlag({ zeroTurnsOff: true }).default(5_000),
    /** To a discovery that lists `lease`: the ADD that renews the lease comes this often, over a session. */
    heartbeatIntervalMs: durationFlag({ min: 10 }).default(1_500),
    idleTimeoutMs: durationFlag().default(30_000),
    shutdownTimeoutMs: durationFlag({ zeroTurnsOff: true }).default(2_000),
    maxConnections: countFlag(1, 9_999_999).default(256),
    logLevel: logLevelFlag().default('info'),
    /** The operator's HTTP port (/metrics, /healthz); off unless given. */
    httpPort: portFlag().optional(),
    /** Shared secret sent with ADD and REMOVE, for a discovery server that requires one. */
    token: tokenFlag().optional(),
  })
  .transform((flags, ctx) => {
    if (flags.offset !== undefined && flags.factor === undefined) {
      ctx.addIssue({ code: 'custom', message: 'needs --factor too (b = a * factor + offset)', path: ['offset'] });
      return z.NEVER;
    }
    if (flags.advertise !== undefined && WILDCARD_HOSTS.has(flags.advertise)) {
      ctx.addIssue({ code: 'custom', message: 'must be an address others can connect to, not a wildcard', path: ['advertise'] });
      return z.NEVER;
    }
    // A wildcard listen address says nothing about how others reach us: refuse to guess.
    if (flags.register && flags.advertise === undefined && WILDCARD_HOSTS.has(flags.host)) {
      ctx.addIssue({ code: 'custom', message: 'is a wildcard; give --advertise <host>, the address other servers should use (or --no-register)', path: ['host'] });
      return z.NEVER;
    }
    if (flags.leaseMs !== 0 && (flags.leaseMs < MIN_LEASE_MS || flags.leaseMs > MAX_LEASE_MS)) {
      ctx.addIssue({ code: 'custom', message: `must be 0 (no lease) or ${formatDuration(MIN_LEASE_MS)} to ${formatDuration(MAX_LEASE_MS)}`, path: ['leaseMs'] });
      return z.NEVER;
    }
    // A heartbeat as long as the lease lapses it on every late packet: demand room for one miss at least.
    if (flags.leaseMs !== 0 && flags.heartbeatIntervalMs * 2 > flags.leaseMs) {
      ctx.addIssue({ code: 'custom', message: `must be at most half of --lease (${formatDuration(flags.leaseMs)}), so that one late heartbeat does not lapse it`, path: ['heartbeatIntervalMs'] });
      return z.NEVER;
    }
    return { ...flags, advertise: flags.advertise ?? flags.host };
  });

export type Config = Readonly<z.output<typeof ConfigSchema>>;

export const DEFAULTS: Config = ConfigSchema.parse({});

export const COMMAND: CommandSpec = {
  name: 'converter',
  version,
  usage: `converter [port] [unit1 unit2] [options]

Serves one pair of units, both directions, over the course's conversion protocol, and keeps
itself registered with the discovery server. With no arguments: ft <-> in on a free port.

Examples:
  converter 5557 b in
  converter 5557 --pair ft:in
  converter 0 --pair ft:in --discovery 127.0.0.1:5555
  converter 5560 --pair widget:gadget --factor 3
  converter 5561 --pair tc:tf --factor 1.8 --offset 32`,
  positionals: ['port', 'unit1', 'unit2'],
  flags: {
    port: { describe: 'port to listen on (0: any free port); also the first argument', default: String(DEFAULTS.port) },
    pair: { describe: 'the two units served, as on the wire: ft:in, $:y, b:gK; also the two arguments after the port', default: DEFAULTS.pair.join(':') },
    factor: { describe: '1 a = F b, for a pair the catalog cannot derive (wins over the catalog)' },
    offset: { describe: 'b = a * factor + offset, for affine pairs (needs --factor)' },
    discovery: { describe: 'discovery server <host>:<port>, or replicas: <host>:<port>,<host>:<port>', default: '127.0.0.1:5555' },
    host: { describe: 'address to listen on', default: DEFAULTS.host },
    advertise: { describe: 'host others should use to reach this server (default: --host; required for a wildcard --host)' },
    register: { type: 'boolean', describe: 'register with discovery (--no-register: serve without it)', default: 'true' },
    reannounce: { type: 'boolean', describe: 're-announce every interval (conv discovery) or check with LOOKUP (any other); --no-reannounce: ADD once', default: 'true' },
    'announce-interval': { type: 'duration', describe: 're-announce (ADD) every this long, to a discovery that takes no lease', default: formatDuration(DEFAULTS.announceIntervalMs) },
    lease: { type: 'duration', describe: 'to a discovery listing lease: ask for a lease this long with each ADD (down at once when it lapses); 0: never ask', default: formatDuration(DEFAULTS.leaseMs) },
    'heartbeat-interval': { type: 'duration', describe: 'to a discovery listing lease: renew it (ADD over one session) every this long; at most half of --lease', default: formatDuration(DEFAULTS.heartbeatIntervalMs) },
    ...edgeFlags(DEFAULTS, { shutdownWaitsFor: 'requests in flight and the REMOVE' }),
    token: { describe: 'shared secret for a discovery server started with --token (or set CONV_TOKEN); never logged' },
  },
};

/** Validates flags into a frozen Config; throws ServerError USAGE naming the first bad flag. */
export const validateConfig = (input: Readonly<Record<string, unknown>>): Config => validateFlags(ConfigSchema, input);

/** `converter [port] [unit1 unit2] [flags]` -> text to print (--help, --version) or a validated Config. */
export function readConfig(argv: readonly string[], env: NodeJS.ProcessEnv = {}): { kind: 'print'; text: string } | { kind: 'run'; config: Config } {
  const line = readCommandLine(COMMAND, argv);
  if (line.kind === 'print') return line;
  const input = flagsOf(line, env);
  const [port, unit1, unit2] = line.positionals;
  // The seed's form `converter 5557 b in`: the pair as two words after the port.
  if (unit1 !== undefined) {
    if (unit2 === undefined) throw new ServerError('USAGE', `the pair needs two units after the port, such as "converter ${port ?? '5557'} ${unit1} in"`);
    if (input.pair !== undefined) throw new ServerError('USAGE', 'the pair was given twice, as arguments and as --pair');
    input.pair = `${unit1}:${unit2}`;
  }
  return { kind: 'run', config: validateConfig(input) };
}
