/**
 * A tiny logger: one line per event on stderr, `<ISO time> <level> <event> key=value ...`.
 * Kept behind this module so that a real logger can replace it without touching callers.
 */
export const LOG_LEVELS = ['error', 'warn', 'info', 'debug'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export type LogFields = Readonly<Record<string, string | number | boolean | undefined>>;

export interface Logger {
  error(event: string, fields?: LogFields): void;
  warn(event: string, fields?: LogFields): void;
  info(event: string, fields?: LogFields): void;
  debug(event: string, fields?: LogFields): void;
  enabled(level: LogLevel): boolean;
}

const RANK: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };

export function createLogger(options: { level: LogLevel; write?: (line: string) => void; now?: () => Date }): Logger {
  const { level, write = (line) => void process.stderr.write(line), now = () => new Date() } = options;
  const limit = RANK[level];
  const emit = (at: LogLevel) => (event: string, fields?: LogFields) => {
    if (RANK[at] > limit) return;
    write(formatLogLine(now(), at, event, fields));
  };
  return {
    error: emit('error'),
    warn: emit('warn'),
    info: emit('info'),
    debug: emit('debug'),
    enabled: (at) => RANK[at] <= limit,
  };
}

/** A logger that drops everything, for embedding and in-memory tests. */
export const silentLogger: Logger = createLogger({ level: 'error', write: () => undefined });

export function formatLogLine(at: Date, level: LogLevel, event: string, fields: LogFields = {}): string {
  let line = `${at.toISOString()} ${level} ${event}`;
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    const text = String(value);
    // Quote anything a reader could mistake for a field boundary; JSON escaping keeps it one line.
    line += ` ${key}=${/^[^\s"=]+$/.test(text) ? text : JSON.stringify(text)}`;
  }
  return `${line}\n`;
}
