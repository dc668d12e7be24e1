/** A tiny structured logger: one line per event on stderr, `<ISO time> <level> <event> key=value ...`. */
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

export function createLogger(options: { level: LogLevel; write?: (line: string) => void; now?: () => Date }): Logger {
  const { level } = options;
  const write = options.write ?? ((line: string) => void process.stderr.write(line));
  const now = options.now ?? (() => new Date());
  const threshold = LOG_LEVELS.indexOf(level);
  const at = (lineLevel: LogLevel) => (event: string, fields: LogFields = {}) => {
    if (LOG_LEVELS.indexOf(lineLevel) > threshold) return;
    write(formatLogLine(now(), lineLevel, event, fields));
  };
  return { level, error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug') };
}

export function formatLogLine(time: Date, level: LogLevel, event: string, fields: LogFields): string {
  const parts = [time.toISOString(), level, event];
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    const text = String(value);
    // Values with spaces, quotes or control characters are JSON-quoted so a line stays one line.
    parts.push(`${key}=${/^[^\s"=\\\p{C}]+$/u.test(text) ? text : JSON.stringify(text)}`);
  }
  return `${parts.join(' ')}\n`;
}

/** A logger that drops everything: for in-memory tests. */
export const silentLogger: Logger = createLogger({ level: 'error', write: () => undefined });
