import { pino } from 'pino';
import pretty from 'pino-pretty';

/**
 * The servers' logger: pino behind a small interface, so call sites say `log.info(event, fields)`
 * and nothing else. One JSON object per line on stderr (`{"level":"info","time":"...","pid":...,
 * "name":...,...fields,"msg":event}`) when stderr is a file or a pipe; readable coloured lines
 * when it is a terminal.
 */
export const LOG_LEVELS = ['error', 'warn', 'info', 'debug'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export type LogFields = Readonly<Record<string, string | number | boolean | undefined>>;

export interface Logger {
  /** The level it was made with: events below it are dropped. */
  readonly level: LogLevel;
  error(event: string, fields?: LogFields): void;
  warn(event: string, fields?: LogFields): void;
  info(event: string, fields?: LogFields): void;
  debug(event: string, fields?: LogFields): void;
  /** Whether an event at `level` would be written; guards fields that are costly to build. */
  enabled(level: LogLevel): boolean;
}

export type LoggerOptions = {
  /** The process's name, on every line (`"name":"proxy"`). */
  name: string;
  level: LogLevel;
  /** Where lines go; default stderr, written synchronously so nothing is lost at exit. */
  write?: (line: string) => void;
  /** Human-readable lines instead of JSON; default: whether stderr is a terminal (and `write` not given). */
  pretty?: boolean;
  /** The clock; tests pin it. */
  now?: () => Date;
};

/** Fields never written as they are, whoever passes them: shared secrets (`--token`) and the like. */
export const REDACTED_FIELDS = ['token', 'secret', 'password'] as const;

/** `token=<secret>` inside a logged value (a request line quoted in a log, say) is hidden too. */
const SECRET_IN_TEXT = /\b(token|secret|password)=[^\s"]+/gi;

function scrubSecrets(fields: Record<string, unknown>): Record<string, unknown> {
  let scrubbed: Record<string, unknown> | undefined;
  for (const [key, value] of Object.entries(fields)) {
    if (typeof value !== 'string' || !value.includes('=')) continue;
    const clean = value.replace(SECRET_IN_TEXT, '$1=[redacted]');
    // A copy: the caller's object is never changed.
    if (clean !== value) (scrubbed ??= { ...fields })[key] = clean;
  }
  return scrubbed ?? fields;
}

export function createLogger(options: LoggerOptions): Logger {
  const { name, level, write, now } = options;
  const prettyLines = options.pretty ?? (write === undefined && process.stderr.isTTY === true);
  // sonic-boom in sync mode: retries a full pipe instead of dropping lines, loses nothing at exit.
  const stderr = write === undefined ? pino.destination({ dest: 2, sync: true }) : undefined;
  const out = write ?? ((line: string) => void stderr?.write(line));
  const prettify = prettyLines ? prettyFormatter() : undefined;
  const logger = pino(
    {
      name,
      level,
      base: { pid: process.pid },
      timestamp: now ? () => `,"time":"${now().toISOString()}"` : pino.stdTimeFunctions.isoTime,
      // pino-pretty colours numeric levels; JSON readers get the label.
      formatters: { ...(prettyLines ? {} : { level: (label: string) => ({ level: label }) }), log: scrubSecrets },
      redact: { paths: REDACTED_FIELDS.flatMap((field) => [field, `*.${field}`]), censor: '[redacted]' },
    },
    { write: (line: string) => out(prettify ? prettify(line) : line) },
  );
  // Each call site passes an event name and flat fields: the event becomes pino's `msg`.
  const at = (lineLevel: LogLevel) => (event: string, fields?: LogFields) => {
    if (fields === undefined) logger[lineLevel](event);
    else logger[lineLevel](fields, event);
  };
  return {
    level,
    error: at('error'),
    warn: at('warn'),
    info: at('info'),
    debug: at('debug'),
    enabled: (lineLevel) => logger.isLevelEnabled(lineLevel),
  };
}

/** A logger that drops everything, for embedding and in-memory tests. */
export const silentLogger: Logger = createLogger({ name: 'silent', level: 'error', write: () => undefined });

// Values with spaces, quotes, backslashes or control characters are JSON-quoted so a line
// stays one line and splits unambiguously on spaces.
function formatValue(text: string): string {
  return /^[^\s"=\\\p{C}]+$/u.test(text) ? text : JSON.stringify(text);
}

/** `<time> <LEVEL>: <event> key=value ...`, from one JSON line; in-process and synchronous. */
function prettyFormatter(): (line: string) => string {
  const hidden = new Set(['level', 'time', 'pid', 'name', 'hostname']);
  return pretty.prettyFactory({
    colorize: pretty.isColorSupported,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname,name',
    hideObject: true,
    messageFormat: (log, messageKey) => {
      const message = log[messageKey];
      let text = typeof message === 'string' ? message : JSON.stringify(message ?? '');
      for (const [key, value] of Object.entries(log)) {
        if (key === messageKey || hidden.has(key)) continue;
        text += ` ${key}=${formatValue(typeof value === 'string' ? value : JSON.stringify(value))}`;
      }
      return text;
    },
  });
}
