import { z } from 'zod';

/** Log levels, most severe first. */
export const LOG_LEVELS = ['error', 'warn', 'info', 'debug'] as const;
export const LogLevelSchema = z.enum(LOG_LEVELS);
export type LogLevel = z.infer<typeof LogLevelSchema>;

export type LogFields = Readonly<Record<string, string | number | boolean | undefined>>;

export interface Logger {
  error(event: string, fields?: LogFields): void;
  warn(event: string, fields?: LogFields): void;
  info(event: string, fields?: LogFields): void;
  debug(event: string, fields?: LogFields): void;
}

/** One line per event: `<ISO time> <level> <event> key=value ...`. */
export function formatLogLine(time: Date, level: LogLevel, event: string, fields: LogFields = {}): string {
  const parts = [time.toISOString(), level, event];
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    parts.push(`${key}=${formatValue(String(value))}`);
  }
  return parts.join(' ');
}

// Values with spaces, quotes or control characters are JSON-quoted so a line stays one line
// and splits unambiguously on spaces.
function formatValue(value: string): string {
  return value === '' || /[\s"=\p{C}]/u.test(value) ? JSON.stringify(value) : value;
}

/** A logger writing to `write` (stderr by default); events below `level` are dropped. */
export function createLogger(
  level: LogLevel,
  write: (line: string) => void = (line) => void process.stderr.write(`${line}\n`),
  now: () => Date = () => new Date(),
): Logger {
  const threshold = LOG_LEVELS.indexOf(level);
  const at =
    (lineLevel: LogLevel) =>
    (event: string, fields?: LogFields): void => {
      if (LOG_LEVELS.indexOf(lineLevel) <= threshold) write(formatLogLine(now(), lineLevel, event, fields));
    };
  return { error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug') };
}
