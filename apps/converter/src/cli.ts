import yargs from 'yargs';
import { CONFIG_DEFAULTS, type Config, validateConfig } from './config';
import { ConverterError } from './errors';

export type Invocation = { readonly kind: 'help'; readonly text: string } | { readonly kind: 'run'; readonly config: Config };

const USAGE = `converter <port> --pair <a>:<b> [options]

Serves one pair of units, both directions, over the course's conversion protocol, and keeps
itself registered with the discovery server.

Examples:
  converter 5557 --pair ft:in
  converter 0 --pair ft:in --discovery 127.0.0.1:5555
  converter 5560 --pair widget:gadget --factor 3
  converter 5561 --pair tc:tf --factor 1.8 --offset 32`;

/** Reads the command line into a validated, frozen config; throws ConverterError USAGE. */
export async function parseCommandLine(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<Invocation> {
  const parser = yargs([...args])
    .scriptName('converter')
    .usage(USAGE)
    .help(false)
    .version(false)
    .parserConfiguration({ 'parse-numbers': false, 'parse-positional-numbers': false, 'camel-case-expansion': true })
    .option('port', { type: 'string', describe: 'port to listen on (0: any free port); also the first argument' })
    .option('pair', { type: 'string', describe: 'the two units served, as on the wire: ft:in, $:y, b:gK' })
    .option('factor', { type: 'string', describe: '1 a = F b, for a pair the catalog cannot derive (wins over the catalog)' })
    .option('offset', { type: 'string', describe: 'b = a * factor + offset, for affine pairs (needs --factor)' })
    .option('discovery', { type: 'string', describe: 'discovery server <host>:<port>', default: CONFIG_DEFAULTS.discovery })
    .option('host', { type: 'string', describe: 'address to listen on', default: CONFIG_DEFAULTS.host })
    .option('advertise', { type: 'string', describe: 'host others should use to reach this server (default: --host; required for a wildcard --host)' })
    .option('register', { type: 'boolean', describe: 'register with discovery (--no-register: serve without it)', default: true })
    .option('announce-interval', { type: 'string', describe: 're-announce (ADD) every this long', default: CONFIG_DEFAULTS.announceInterval })
    .option('max-connections', { type: 'string', describe: 'open client connections at most', default: CONFIG_DEFAULTS.maxConnections })
    .option('idle-timeout', { type: 'string', describe: 'close a client silent for this long', default: CONFIG_DEFAULTS.idleTimeout })
    .option('shutdown-timeout', { type: 'string', describe: 'on SIGINT/SIGTERM, wait this long for requests in flight and the REMOVE', default: CONFIG_DEFAULTS.shutdownTimeout })
    .option('log-level', { type: 'string', describe: 'error, warn, info or debug', default: CONFIG_DEFAULTS.logLevel })
    .option('http-port', { type: 'string', describe: 'serve /metrics and /healthz on this port, same --host (default off; 0: any free port)' })
    .option('token', { type: 'string', describe: 'shared secret for a discovery server started with --token (or set CONV_TOKEN); never logged' })
    .option('help', { alias: 'h', type: 'boolean', describe: 'show this help' })
    .strictOptions()
    .wrap(100)
    .exitProcess(false)
    .fail((message: string | null, error: Error | undefined) => {
      const unknown = /^Unknown arguments?: (.*)$/.exec(message ?? '');
      const text = unknown
        ? `unknown option ${(unknown[1] ?? '').split(', ').map((name) => `--${name}`).join(', ')}`
        : (message ?? error?.message ?? 'invalid command line').replace(/\s+/g, ' ');
      throw new ConverterError('USAGE', `converter: ${text} (see --help)`, { cause: error });
    });

  const argv = await parser.parseAsync();
  if (argv.help === true) return { kind: 'help', text: await parser.getHelp() };

  const positional = argv._.map(String);
  if (positional.length > 1) {
    throw new ConverterError('USAGE', `converter: expected one argument, the port; got ${positional.length}: ${positional.join(' ')}`);
  }
  const [portArgument] = positional;
  const repeated = (name: string, value: unknown): void => {
    if (Array.isArray(value)) throw new ConverterError('USAGE', `converter: --${name} was given more than once`);
  };
  for (const name of ['port', 'pair', 'factor', 'offset', 'discovery', 'host', 'advertise', 'announce-interval', 'max-connections', 'idle-timeout', 'shutdown-timeout', 'log-level', 'http-port', 'token']) {
    repeated(name, argv[name]);
  }
  if (portArgument !== undefined && argv.port !== undefined && portArgument !== argv.port) {
    throw new ConverterError('USAGE', `converter: the port was given twice, as ${portArgument} and --port ${String(argv.port)}`);
  }

  return {
    kind: 'run',
    config: validateConfig({
      port: portArgument ?? argv.port,
      pair: argv.pair,
      factor: argv.factor,
      offset: argv.offset,
      discovery: argv.discovery,
      host: argv.host,
      advertise: argv.advertise,
      register: argv.register,
      announceInterval: argv.announceInterval,
      maxConnections: argv.maxConnections,
      idleTimeout: argv.idleTimeout,
      shutdownTimeout: argv.shutdownTimeout,
      logLevel: argv.logLevel,
      httpPort: argv.httpPort,
      // The environment keeps the secret out of `ps` listings; a flag, when given, wins.
      token: argv.token ?? (env.CONV_TOKEN || undefined),
    }),
  };
}
