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
  tokenFlag,
  validateFlags,
} from '@conv/server';
import { z } from 'zod';
import { version } from '../package.json';
import { formatAddress } from '@conv/protocol';

/** The proxy's settings: the single source of truth for flag defaults and types. */
export const ConfigSchema = z.strictObject({
  port: portFlag().default(5556),
  host: hostFlag().default('127.0.0.1'),
  /** One discovery server, or several replicas sharing one registry (comma-separated), tried in turn. */
  discovery: endpointsFlag().default([{ host: '127.0.0.1', port: 5555 }]),
  hopTimeoutMs: durationFlag().default(1000),
  pathTtlMs: durationFlag().default(2000),
  staleTtlMs: durationFlag().default(300_000),
  /** Outlier ejection: the first ejection's length, doubling with each in a row, up to the max. */
  ejectionTimeMs: durationFlag().default(3000),
  maxEjectionTimeMs: durationFlag().default(30_000),
  maxConnections: countFlag(1, 1_000_000).default(1024),
  /**
   * Requests to one converter that arrive in one turn of the event loop, sent together on one
   * pooled connection (1: one at a time). Only to converters that tag their replies (`PERSIST
   * TAGGED`), so each reply is checked against the request it answers.
   */
  pipelineDepth: countFlag(1, 64).default(16),
  idleTimeoutMs: durationFlag().default(30_000),
  /** In-flight requests get a few hop timeouts to finish. */
  shutdownTimeoutMs: durationFlag({ zeroTurnsOff: true }).default(3_000),
  logLevel: logLevelFlag().default('info'),
  /** The operator's HTTP port (/metrics, /healthz); off unless given. */
  httpPort: portFlag().optional(),
  /** Accepted for compatibility: the proxy's reports (REPORT) need no token, and it changes nothing else. */
  token: tokenFlag().optional(),
});

export type Config = Readonly<z.output<typeof ConfigSchema>>;

export const DEFAULTS: Config = ConfigSchema.parse({});

const show = (ms: number) => formatDuration(ms);

export const COMMAND: CommandSpec = {
  name: 'proxy',
  version,
  usage: `proxy [port] [discovery-host] [discovery-port] [options]

Answers "<from> <to> <amount>" on the conversion protocol by asking the discovery server for a
path of converters and calling each hop in order, failing over to another replica of a pair
when one is dead or stuck. The seed form "proxy 5556 127.0.0.1 5555" works.`,
  positionals: ['port', 'discovery-host', 'discovery-port'],
  flags: {
    port: { describe: 'port to listen on (0: any free port)', default: String(DEFAULTS.port) },
    host: { describe: 'address to listen on', default: DEFAULTS.host },
    discovery: { describe: 'discovery server, host:port, or replicas sharing one registry: host:port,host:port (fails over between them)', default: '127.0.0.1:5555' },
    'hop-timeout': { type: 'duration', describe: 'connect + answer time allowed for one hop', default: show(DEFAULTS.hopTimeoutMs) },
    'path-ttl': { type: 'duration', describe: 'how long a learned path is fresh', default: show(DEFAULTS.pathTtlMs) },
    'stale-ttl': { type: 'duration', describe: 'how long a path may be used while discovery is unreachable', default: show(DEFAULTS.staleTtlMs) },
    'ejection-time': { type: 'duration', describe: 'a converter that failed or timed out is ejected this long, doubled for each ejection in a row', default: show(DEFAULTS.ejectionTimeMs) },
    'max-ejection-time': { type: 'duration', describe: 'the longest an ejection grows to', default: show(DEFAULTS.maxEjectionTimeMs) },
    'failed-ttl': { type: 'duration', describe: 'old name of --ejection-time (same meaning)' },
    'pipeline-depth': {
      describe: 'requests to one converter arriving at once that share one pooled connection and one write, for converters that tag their replies (1: one request per connection at a time)',
      default: String(DEFAULTS.pipelineDepth),
    },
    ...edgeFlags(DEFAULTS, { shutdownWaitsFor: 'requests in flight' }),
    token: { describe: 'accepted for compatibility (or CONV_TOKEN): the proxy only reports (REPORT), which needs no token; never logged' },
  },
};

/** Validates flags into a frozen Config; throws ServerError USAGE naming the first bad flag. */
export const validateConfig = (input: Readonly<Record<string, unknown>>): Config => validateFlags(ConfigSchema, input);

/** `proxy [port] [discovery-host discovery-port] [flags]` -> text to print or a validated Config. */
export function readConfig(argv: readonly string[], env: NodeJS.ProcessEnv = {}): { kind: 'print'; text: string } | { kind: 'run'; config: Config } {
  const line = readCommandLine(COMMAND, argv);
  if (line.kind === 'print') return line;
  const input = flagsOf(line, env);
  const [, seedHost, seedPort] = line.positionals;
  if ((seedHost === undefined) !== (seedPort === undefined)) {
    throw new ServerError('USAGE', 'the seed form needs both <discovery-host> and <discovery-port>, e.g. "proxy 5556 127.0.0.1 5555"');
  }
  if (seedHost !== undefined && seedPort !== undefined) {
    if (input.discovery !== undefined) throw new ServerError('USAGE', 'give the discovery server either as <discovery-host> <discovery-port> or as --discovery, not both');
    const host = seedHost.startsWith('[') ? seedHost.slice(1, -1) : seedHost;
    input.discovery = /^[0-9]+$/.test(seedPort) ? formatAddress({ host, port: Number(seedPort) }) : `${seedHost}:${seedPort}`;
  }
  // --failed-ttl was a fixed skip time; it is now the base of a growing ejection.
  if (input.failedTtlMs !== undefined) {
    if (input.ejectionTimeMs !== undefined) throw new ServerError('USAGE', 'give --ejection-time or its old name --failed-ttl, not both');
    input.ejectionTimeMs = input.failedTtlMs;
    delete input.failedTtlMs;
  }
  const config = validateConfig(input);
  if (config.maxEjectionTimeMs < config.ejectionTimeMs) {
    throw new ServerError('USAGE', `--max-ejection-time must be at least --ejection-time (${show(config.ejectionTimeMs)}), got "${show(config.maxEjectionTimeMs)}"`);
  }
  return { kind: 'run', config };
}
