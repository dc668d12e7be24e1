import { pino } from 'pino';
import pretty from 'pino-pretty';

/**
 * The proxy's logger: pino behind a small interface, so call sites say `log.info(event, fields)`.
 * One JSON object per line on stderr (`{"level":"info","time":"...","msg":event,...fields}`)
 * when stderr is a file or a pipe; readable coloured lines when it is a terminal.
 */
export const LOG_LEVELS = ['error', 'warn', 'info', 'debug'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export type LogFields = Readonly<Record<string, string | number | boolean | undefined>>;

export type Logger = {
  readonly level: LogLevel;
  error(event: string, fields?: LogFields): void;
  warn(event: string, fields?: LogFields): void;
  info(event: string, fields?: LogFields): void;
  debug(event: string, fields?: LogFields): void;
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

export function createLogger(options: { level: LogLevel; write?: (line: string) => void; now?: () => Date; pretty?: boolean }): Logger {
  const { level, write, now } = options;
  const prettyLines = options.pretty ?? (write === undefined && process.stderr.isTTY === true);
  // sonic-boom in sync mode: retries a full pipe instead of dropping lines, loses nothing at exit.
  const stderr = write === undefined ? pino.destination({ dest: 2, sync: true }) : undefined;
  const out = write ?? ((line: string) => void stderr?.write(line));
  const prettify = prettyLines ? prettyFormatter() : undefined;
  const logger = pino(
    {
      name: 'proxy',
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
  return { level, error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug') };
}

/** The text form used before pino: `<ISO time> <level> <event> key=value ...`, one line. */
export function formatLogLine(time: Date, level: LogLevel, event: string, fields: LogFields): string {
  const parts = [time.toISOString(), level, event];
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    parts.push(`${key}=${formatValue(String(value))}`);
  }
  return `${parts.join(' ')}\n`;
}

// Values with spaces, quotes or control characters are JSON-quoted so a line stays one line.
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

/** A logger that drops everything: for in-memory tests. */
export const silentLogger: Logger = createLogger({ level: 'error', write: () => undefined });
