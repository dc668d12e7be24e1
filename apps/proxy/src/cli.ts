import yargs from 'yargs';
import { type Config, type ConfigInput, validateConfig } from './config';
import { ProxyError } from './errors';

export type CommandLine = { kind: 'help'; text: string } | { kind: 'run'; config: Config };

const USAGE = `proxy [port] [discovery-host] [discovery-port] [options]

Answers "<from> <to> <amount>" on the conversion protocol by asking the discovery server for a
path of converters and calling each hop in order, failing over to another replica of a pair
when one is dead or stuck. The seed form "proxy 5556 127.0.0.1 5555" still works.`;

/** Parses argv (without `node main.js`): help text, or a validated, frozen config. Throws ProxyError USAGE. */
export async function parseCommandLine(argv: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<CommandLine> {
  const parser = yargs([...argv])
    .scriptName('proxy')
    .usage(USAGE)
    .help(false)
    .command('$0 [port] [discovery-host] [discovery-port]', false)
    .positional('port', { type: 'string', describe: 'port to listen on (0: any free port)' })
    .positional('discovery-host', { type: 'string', describe: 'discovery server host (seed form)' })
    .positional('discovery-port', { type: 'string', describe: 'discovery server port (seed form)' })
    .options({
      port: { type: 'string', describe: 'port to listen on; 0 picks a free one', defaultDescription: '5556' },
      host: { type: 'string', describe: 'address to listen on', defaultDescription: '127.0.0.1' },
      discovery: { type: 'string', describe: 'discovery server, host:port, or replicas sharing one registry: host:port,host:port (fails over between them)', defaultDescription: '127.0.0.1:5555' },
      'hop-timeout': { type: 'string', describe: 'connect + answer time allowed for one hop', defaultDescription: '1s' },
      'path-ttl': { type: 'string', describe: 'how long a learned path is fresh', defaultDescription: '2s' },
      'stale-ttl': { type: 'string', describe: 'how long a path may be used while discovery is unreachable', defaultDescription: '5m' },
      'failed-ttl': { type: 'string', describe: 'how long a dead converter is skipped locally', defaultDescription: '3s' },
      'max-connections': { type: 'string', describe: 'client connections served at once', defaultDescription: '1024' },
      'idle-timeout': { type: 'string', describe: 'close a client silent this long', defaultDescription: '30s' },
      'log-level': { type: 'string', describe: 'error, warn, info or debug', defaultDescription: 'info' },
      'http-port': { type: 'string', describe: 'serve /metrics and /healthz on this port, same --host (0: any free port)', defaultDescription: 'off' },
      token: { type: 'string', describe: 'shared secret for a discovery server started with --token (or set CONV_TOKEN); never logged' },
      help: { type: 'boolean', alias: 'h', describe: 'show this help' },
    })
    .version(false)
    .strict()
    .wrap(100)
    .exitProcess(false)
    .fail((message: string | undefined, error: Error | undefined) => {
      throw new ProxyError('USAGE', `proxy: ${oneLine(message ?? error?.message ?? 'bad usage')}`);
    });

  const args = await parser.parseAsync();
  if (args.help === true) return { kind: 'help', text: await parser.getHelp() };

  const first = (value: unknown): string | undefined => {
    // A flag given twice arrives as an array: the last one wins, as in most CLIs.
    const last: unknown = Array.isArray(value) ? value.at(-1) : value;
    if (last === undefined) return undefined;
    return typeof last === 'string' || typeof last === 'number' || typeof last === 'boolean' ? String(last) : undefined;
  };
  const seedHost = first(args['discovery-host']);
  const seedPort = first(args['discovery-port']);
  const flagDiscovery = first(args.discovery);
  if ((seedHost === undefined) !== (seedPort === undefined)) {
    throw new ProxyError('USAGE', 'proxy: the seed form needs both <discovery-host> and <discovery-port>, e.g. "proxy 5556 127.0.0.1 5555"');
  }
  if (seedHost !== undefined && flagDiscovery !== undefined) {
    throw new ProxyError('USAGE', 'proxy: give the discovery server either as <discovery-host> <discovery-port> or as --discovery, not both');
  }
  const discovery =
    seedHost !== undefined && seedPort !== undefined
      ? `${seedHost.includes(':') ? `[${seedHost}]` : seedHost}:${seedPort}`
      : flagDiscovery;

  const input: Record<string, string | undefined> = {
    port: first(args.port),
    host: first(args.host),
    discovery,
    hopTimeoutMs: first(args['hop-timeout']),
    pathTtlMs: first(args['path-ttl']),
    staleTtlMs: first(args['stale-ttl']),
    failedTtlMs: first(args['failed-ttl']),
    maxConnections: first(args['max-connections']),
    idleTimeoutMs: first(args['idle-timeout']),
    logLevel: first(args['log-level']),
    httpPort: first(args['http-port']),
    // The environment keeps the secret out of `ps` listings; a flag, when given, wins.
    token: first(args.token) ?? (env.CONV_TOKEN || undefined),
  };
  const defined = Object.fromEntries(Object.entries(input).filter(([, value]) => value !== undefined)) as ConfigInput;
  const result = validateConfig(defined);
  if (!result.ok) throw new ProxyError('USAGE', `proxy: ${result.message}`);
  return { kind: 'run', config: result.config };
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, '; ').trim();
}
