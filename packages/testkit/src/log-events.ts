import { waitFor } from './wait-for';

/** One JSON log line as the servers write it on a pipe (pino): level label, time, msg = event, fields. */
export type LogEvent = { level: string; time: string; msg: string; [field: string]: unknown };

/** Every JSON log line in a process's output (stdout lines such as the banner are skipped). */
export function logEvents(output: string): LogEvent[] {
  return output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as LogEvent);
}

/** The first event logged at `level` named `msg`, or undefined. */
export function findLog(output: string, level: string, msg: string): LogEvent | undefined {
  return logEvents(output).find((event) => event.level === level && event.msg === msg);
}

/** Every event logged at `level` named `msg`. */
export function findLogs(output: string, level: string, msg: string): LogEvent[] {
  return logEvents(output).filter((event) => event.level === level && event.msg === msg);
}

/**
 * Polls `output` until an event at `level` named `msg` (and satisfying `where`) has been logged,
 * and returns the first such. Log lines travel on the process's own pipe and may arrive after
 * whatever the test saw happen, so they are waited for, never read once right after an action.
 */
export function waitForLog(
  output: () => string,
  level: string,
  msg: string,
  options: { where?: (event: LogEvent) => boolean; timeoutMs?: number } = {},
): Promise<LogEvent> {
  const { where = () => true, timeoutMs = 15_000 } = options;
  return waitFor(() => findLogs(output(), level, msg).find(where), { what: `a ${level} ${msg} log line`, timeoutMs });
}

/** Whether `event` has every field of `fields`: equal values, or strings a RegExp matches (for `waitForLog`'s `where`). */
export function logMatches(event: LogEvent, fields: Record<string, unknown>): boolean {
  return Object.entries(fields).every(([key, expected]) => {
    const actual = event[key];
    return expected instanceof RegExp ? typeof actual === 'string' && expected.test(actual) : actual === expected;
  });
}
