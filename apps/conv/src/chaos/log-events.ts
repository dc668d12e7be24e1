/**
 * The event name of one log line, in either format the apps write: the plain
 * `<ISO time> <level> <event> key=value ...`, or a JSON object (pino) with `event` or `msg`.
 */
export function logEventName(line: string): string | undefined {
  const text = line.trim();
  if (text.startsWith('{')) {
    try {
      const parsed = JSON.parse(text) as Record<string, unknown>;
      const name = parsed.event ?? parsed.msg;
      return typeof name === 'string' ? name : undefined;
    } catch {
      return undefined;
    }
  }
  return text.split(/\s+/)[2];
}

export type ProxyEventCounts = { failovers: number; retries: number };

/** Counts the proxy's failover and retry events from its stderr lines. */
export function countProxyEvent(counts: ProxyEventCounts, line: string): void {
  const event = logEventName(line);
  if (event === undefined) return;
  if (event.includes('failover')) counts.failovers++;
  else if (event.includes('retry')) counts.retries++;
}
