import { APP, LineClient, type ServerProcess, exchange, startServer, waitFor } from '@conv/testkit';

/** Harness for the process-level tests: the built discovery, converter and proxy apps on loopback. */

export function startDiscovery(options: { db?: string; port?: number } = {}): Promise<ServerProcess> {
  return startServer(APP.discovery, ['--port', String(options.port ?? 0), '--db', options.db ?? ':memory:', '--check-interval', '100ms']);
}

export function startConverter(pair: string, discovery: ServerProcess, port = 0): Promise<ServerProcess> {
  return startServer(APP.converter, [String(port), '--pair', pair, '--discovery', `127.0.0.1:${discovery.port}`]);
}

export function startProxy(discovery: ServerProcess, extra: readonly string[] = []): Promise<ServerProcess> {
  return startServer(APP.proxy, ['0', '127.0.0.1', String(discovery.port), ...extra]);
}

/** The course's one-shot exchange; returns the answer line (the line after the greeting). */
export async function ask(server: { port: number }, request: string): Promise<string> {
  const lines = await exchange(server.port, request);
  return lines[1] ?? `<no answer; got ${JSON.stringify(lines)}>`;
}

/** The discovery server's LIST, as `<u1> <u2> <host> <port> <health>` lines. */
export async function list(discovery: { port: number }): Promise<string[]> {
  const client = await LineClient.connect(discovery.port);
  try {
    const lines = await client.request('LIST', (line) => line === 'END' || line.startsWith('FAILURE'));
    return lines.slice(0, -1);
  } finally {
    client.close();
  }
}

/** Waits until discovery lists `count` endpoints up (admission probes passed). */
export async function waitUp(discovery: { port: number }, count: number): Promise<void> {
  await waitFor(async () => (await list(discovery)).filter((line) => / up( |$)/.test(line)).length >= count, {
    what: `${count} converters up in discovery`,
    timeoutMs: 10_000,
  });
}

/** The answer of one converter for one request (for expected values of a chain). */
export async function direct(converter: ServerProcess, request: string): Promise<string> {
  return ask(converter, request);
}
