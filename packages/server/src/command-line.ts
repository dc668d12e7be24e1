import { formatDuration } from '@conv/protocol';
import yargs from 'yargs';
import { ServerError } from './errors';

export type FlagSpec = {
  readonly describe: string;
  /**
   * Boolean flags take no value; `--no-<name>` turns one off. Everything else is read as text.
   * A duration's config key ends in `Ms` (`--hop-timeout` -> `hopTimeoutMs`): one convention.
   */
  readonly type?: 'string' | 'boolean' | 'duration';
  /** Shown in --help only: defaults live in the config schema. */
  readonly default?: string;
};

export type CommandSpec = {
  /** The program as people type it: `discovery`, `conv up`. */
  readonly name: string;
  readonly version: string;
  /** The first lines of --help: synopsis and what it does. */
  readonly usage: string;
  /** Names of the positional arguments, in order; all optional. */
  readonly positionals?: readonly string[];
  /** Flags by their name on the command line (kebab-case). */
  readonly flags: Readonly<Record<string, FlagSpec>>;
};

/** What every conv server's edge flags default to (its config schema states them). */
export type EdgeDefaults = { readonly maxConnections: number; readonly idleTimeoutMs: number; readonly shutdownTimeoutMs: number; readonly logLevel: string };

/**
 * The flags of the edge every conv server shares (connection limit, idle cut, shutdown wait, log
 * level, operator port), described once; `say` names what differs: what a shutdown waits for
 * and what the operator port serves.
 */
export function edgeFlags(defaults: EdgeDefaults, say: { idle?: string; shutdownWaitsFor: string; httpServes?: string }): Record<string, FlagSpec> {
  return {
    'max-connections': { describe: 'connections served at once; one more gets TOO_MANY_CONNECTIONS and is closed', default: String(defaults.maxConnections) },
    'idle-timeout': { type: 'duration', describe: say.idle ?? 'close a client silent this long', default: formatDuration(defaults.idleTimeoutMs) },
    'shutdown-timeout': { type: 'duration', describe: `on SIGINT/SIGTERM, wait this long for ${say.shutdownWaitsFor}`, default: formatDuration(defaults.shutdownTimeoutMs) },
    'log-level': { describe: 'error, warn, info or debug', default: defaults.logLevel },
    'http-port': { describe: `serve ${say.httpServes ?? '/metrics and /healthz'} on this port, same --host (default off; 0: any free port)` },
  };
}

/** Flag values keyed by config name (camelCase), positionals in order. */
export type ReadCommandLine = {
  readonly kind: 'run';
  readonly flags: Readonly<Record<string, string | boolean>>;
  readonly positionals: readonly string[];
};

export type CommandLine = { readonly kind: 'print'; readonly text: string } | ReadCommandLine;

/**
 * Reads argv (without `node script`) the same way for every conv program: unknown flags,
 * a flag given twice and extra arguments are usage errors (ServerError USAGE, one line);
 * `--help` and `--version` are text to print. Values stay text: the config schema judges them.
 */
export function readCommandLine(spec: CommandSpec, argv: readonly string[]): CommandLine {
  if (argv.includes('--version')) return { kind: 'print', text: spec.version };
  const options: Record<string, { type: 'string' | 'boolean'; describe: string }> = {};
  for (const [name, flag] of Object.entries(spec.flags)) {
    const type = flag.type === 'boolean' ? 'boolean' : 'string';
    options[name] = { type, describe: flag.default === undefined ? flag.describe : `${flag.describe} (default ${flag.default})` };
  }
  let printed: string | undefined;
  const parser = yargs([...argv])
    .scriptName(spec.name)
    .usage(spec.usage)
    .help(false)
    .version(false)
    .options(options)
    .option('help', { type: 'boolean', alias: 'h', describe: 'show this help' })
    .option('version', { type: 'boolean', describe: 'show the version' })
    .parserConfiguration({ 'parse-numbers': false, 'parse-positional-numbers': false, 'camel-case-expansion': false, 'duplicate-arguments-array': true })
    .strictOptions()
    .wrap(Math.min(110, process.stdout.columns ?? 100))
    .exitProcess(false)
    .fail((message: string | null, error: Error | undefined) => {
      const unknown = /^Unknown arguments?: (.*)$/.exec(message ?? '');
      const text = unknown ? `unknown option ${unknownFlags(unknown[1] ?? '')}; see --help` : oneLine(message ?? error?.message ?? 'bad arguments');
      throw new ServerError('USAGE', text, { cause: error });
    });
  const parsed = parser.parseSync() as Record<string, unknown>;
  if (parsed.help === true) {
    parser.showHelp((text) => (printed = text));
    return { kind: 'print', text: printed ?? '' };
  }
  const positionals = (parsed._ as unknown[]).map(String);
  const allowed = spec.positionals ?? [];
  if (positionals.length > allowed.length) {
    const synopsis = [spec.name, ...allowed.map((p) => `[${p}]`), '[options]'].join(' ');
    throw new ServerError('USAGE', `unexpected argument ${JSON.stringify(positionals[allowed.length])}; usage: ${synopsis}`);
  }
  const flags: Record<string, string | boolean> = {};
  for (const [name, flag] of Object.entries(spec.flags)) {
    const value = parsed[name];
    if (value === undefined) continue;
    if (Array.isArray(value)) throw new ServerError('USAGE', `--${name} was given more than once`);
    flags[configKey(name, flag)] = typeof value === 'boolean' ? value : typeof value === 'string' ? value : JSON.stringify(value);
  }
  return { kind: 'run', flags, positionals };
}

function unknownFlags(list: string): string {
  return list
    .split(', ')
    .map((name) => (name.startsWith('-') ? name : name.length === 1 ? `-${name}` : `--${name}`))
    .join(', ');
}

/** `check-interval` -> `checkIntervalMs` for a duration, `max-connections` -> `maxConnections`. */
export function configKey(name: string, flag: FlagSpec = { describe: '' }): string {
  const camel = name.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
  return flag.type === 'duration' ? `${camel}Ms` : camel;
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, '; ').trim();
}

/**
 * The flags to validate, from the seed's forms too: the first positional is the port (refused
 * when --port says another), and the token comes from CONV_TOKEN unless --token gives one (the
 * environment keeps a secret out of `ps` listings). The app reads its other positionals itself.
 */
export function flagsOf(line: ReadCommandLine, env: NodeJS.ProcessEnv = {}): Record<string, unknown> {
  const input: Record<string, unknown> = { ...line.flags };
  const [port] = line.positionals;
  if (port !== undefined) {
    if (line.flags.port !== undefined && line.flags.port !== port) throw new ServerError('USAGE', `the port was given twice, as ${port} and --port ${String(line.flags.port)}`);
    input.port = port;
  }
  if (input.token === undefined && env.CONV_TOKEN) input.token = env.CONV_TOKEN;
  return input;
}
