import yargs from 'yargs';
import { version } from '../package.json';
import { type Config, DEFAULTS, validateConfig } from './config';
import { DiscoveryError } from './errors';
import { LOG_LEVELS } from '@conv/observability';

export type CliOutcome = { kind: 'run'; config: Config } | { kind: 'print'; text: string };

const duration = (ms: number) => (ms % 1000 === 0 && ms > 0 ? `${ms / 1000}s` : `${ms}ms`);

/**
 * Reads the command line (`discovery [port] [flags]`, without `node` and the script) into a
 * validated Config, or into text to print (`--help`, `--version`). Throws a USAGE
 * DiscoveryError with a one-line message for anything wrong.
 */
export function parseCli(argv: readonly string[], env: NodeJS.ProcessEnv = {}): CliOutcome {
  let printed: string | undefined;
  const parser = yargs([...argv])
    .scriptName('discovery')
    .usage('$0 [port] [options]\n\nThe conv discovery server: a durable, health-checking registry of conversion servers.')
    .options({
      port: { type: 'string', describe: `port to listen on (default ${DEFAULTS.port}; 0 = any free port)` },
      host: { type: 'string', describe: `address to listen on (default ${DEFAULTS.host})` },
      db: { type: 'string', describe: `registry file, or :memory: (default ./${DEFAULTS.db})` },
      'check-interval': { type: 'string', describe: `health-check period per endpoint; 0 = off (default ${duration(DEFAULTS.checkInterval)})` },
      'check-timeout': { type: 'string', describe: `time limit of one probe (default ${duration(DEFAULTS.checkTimeout)})` },
      'check-concurrency': { type: 'string', describe: `probes in flight at most (default ${DEFAULTS.checkConcurrency})` },
      'max-probe-rate': { type: 'string', describe: `routine probes per second at most, across all endpoints; a large registry stretches its interval instead of starving requests; 0 = no limit (default ${DEFAULTS.maxProbeRate})` },
      'fail-threshold': { type: 'string', describe: `consecutive failed probes that mark an endpoint down (default ${DEFAULTS.failThreshold})` },
      'pass-threshold': { type: 'string', describe: `consecutive good probes that bring it back up (default ${DEFAULTS.passThreshold})` },
      'down-grace': { type: 'string', describe: `remove an endpoint down this long (default ${duration(DEFAULTS.downGrace)})` },
      'pending-grace': { type: 'string', describe: `remove an endpoint never proven up this long (default ${duration(DEFAULTS.pendingGrace)})` },
      'trust-registrations': { type: 'boolean', describe: 'ADD is up at once, without the admission probe (classroom demos)' },
      token: { type: 'string', describe: 'shared secret that ADD and REMOVE must carry as token=<secret> (or set CONV_TOKEN); never logged' },
      greeting: { type: 'boolean', describe: 'send a HELLO line to each new connection' },
      'max-connections': { type: 'string', describe: `open connections at most (default ${DEFAULTS.maxConnections})` },
      'idle-timeout': { type: 'string', describe: `close a connection silent this long; 0 = never (default ${duration(DEFAULTS.idleTimeout)})` },
      'max-line-bytes': { type: 'string', describe: `longest request line (default ${DEFAULTS.maxLineBytes})` },
      'log-level': { type: 'string', describe: `${LOG_LEVELS.join(', ')} (default ${DEFAULTS.logLevel})` },
      store: { type: 'string', describe: 'keep the registry in etcd, shared with other discovery replicas: etcd://host:port[,host:port...] (default: the SQLite file of --db)' },
      'lease-ttl': { type: 'string', describe: `with --store: an endpoint not re-announced (ADD) for this long disappears (default ${duration(DEFAULTS.leaseTtl)})` },
      'etcd-timeout': { type: 'string', describe: `with --store: the deadline of one call to etcd; ADD and REMOVE answer UNAVAILABLE after it (default ${duration(DEFAULTS.etcdTimeout)})` },
      'http-port': { type: 'string', describe: 'serve /metrics, /healthz and the status page (/) on this port, same --host (default off; 0 = any free port)' },
    })
    .strictOptions()
    .parserConfiguration({ 'parse-positional-numbers': false })
    .help()
    .version(version)
    .wrap(null)
    .exitProcess(false)
    .showHelpOnFail(false)
    .fail((message, error) => {
      const unknown = /^Unknown arguments?: (.*)$/.exec(message ?? '');
      const text = unknown
        ? `unknown option ${(unknown[1] ?? '').split(', ').map((name) => `--${name}`).join(', ')}; see --help`
        : oneLine(message || error?.message || 'bad arguments');
      throw new DiscoveryError('USAGE', text);
    });

  const argv2 = parser.parseSync([...argv], {}, (_error, _parsed, output) => {
    if (output) printed = output;
  }) as Record<string, unknown>;
  if (printed !== undefined) return { kind: 'print', text: printed };

  // The seed's form `discovery 5555`: one positional, the port.
  const positional = (argv2._ as unknown[]).map(String);
  if (positional.length > 1) throw new DiscoveryError('USAGE', `unexpected argument ${JSON.stringify(positional[1])}; usage: discovery [port] [options]`);
  if (positional.length === 1) {
    if (argv2.port !== undefined) throw new DiscoveryError('USAGE', '--port was given twice (as a flag and as the first argument)');
    argv2.port = positional[0];
  }
  for (const [key, value] of Object.entries(argv2)) {
    // yargs turns a repeated flag into an array; one value per flag keeps the config unambiguous.
    if (Array.isArray(value) && key !== '_') throw new DiscoveryError('USAGE', `--${key} was given more than once`);
  }

  const keys = [
    'port', 'host', 'db', 'checkInterval', 'checkTimeout', 'checkConcurrency', 'maxProbeRate', 'failThreshold', 'passThreshold',
    'downGrace', 'pendingGrace', 'trustRegistrations', 'greeting', 'maxConnections', 'idleTimeout', 'maxLineBytes',
    'logLevel', 'token', 'httpPort', 'store', 'leaseTtl', 'etcdTimeout',
  ] as const;
  const input: Record<string, unknown> = {};
  for (const key of keys) if (argv2[key] !== undefined) input[key] = argv2[key];
  // The environment keeps the secret out of `ps` listings; a flag, when given, wins.
  if (input.token === undefined && env.CONV_TOKEN) input.token = env.CONV_TOKEN;
  return { kind: 'run', config: validateConfig(input) };
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, '; ').trim();
}
