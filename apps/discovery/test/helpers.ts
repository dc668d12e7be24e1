import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DiscoveryVerb, createDiscoveryReplyReader, parseDiscoveryRequest } from '@conv/protocol';
import { APP, type FakeConverter, LineClient, type ServerProcess, startFakeConverter, startServer, stopAll } from '@conv/testkit';
import { ServerError } from '@conv/server';
import { afterEach } from 'vitest';
import { readConfig } from '../src/config';

/** A fresh temp folder per test file; removed by the returned cleanup. */
export function tempDir(): { path: string; file(name: string): string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), 'conv-discovery-'));
  return { path, file: (name) => join(path, name), remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** Fast health checks for tests: every probe cycle is a tenth of a second. */
export const FAST_CHECKS = ['--check-interval', '100ms', '--check-timeout', '500ms'] as const;

/** Starts the built discovery app on a free port. */
export function startDiscovery(args: readonly string[] = []): Promise<ServerProcess> {
  return startServer(APP.discovery, ['0', ...args]);
}

/** The verb a request line uses, so that its (possibly multi-line) reply can be read whole. */
function verbOf(line: string): DiscoveryVerb {
  const parsed = parseDiscoveryRequest(line);
  return parsed.ok ? parsed.value.verb : 'PING';
}

/** Reads the raw lines of one whole reply to `line` (which was already sent). */
export async function readReply(client: LineClient, line: string, timeoutMs = 5000): Promise<string[]> {
  const reader = createDiscoveryReplyReader(verbOf(line));
  const lines: string[] = [];
  for (;;) {
    const next = await client.nextLine(timeoutMs);
    lines.push(next);
    if (reader.push(next).done) return lines;
  }
}

/** A connection kept open for several requests: without SESSION, discovery closes it shortly after each reply. */
export async function openSession(port: number, options: { localAddress?: string } = {}): Promise<LineClient> {
  const client = await LineClient.connect(port, options);
  const granted = await client.request('SESSION');
  if (granted[0] !== 'OK session') throw new Error(`SESSION answered ${JSON.stringify(granted)}`);
  return client;
}

/** Sends one request and reads its whole reply. */
export async function ask(client: LineClient, line: string): Promise<string[]> {
  client.send(line);
  return readReply(client, line);
}

/** One request on a fresh connection, closed afterwards. */
export async function askOnce(port: number, line: string, options: { localAddress?: string } = {}): Promise<string[]> {
  const client = await LineClient.connect(port, options);
  try {
    return await ask(client, line);
  } finally {
    client.close();
  }
}

/** The LIST reply as `unit1 unit2 host port health` lines, without END. */
export async function list(port: number): Promise<string[]> {
  return (await askOnce(port, 'LIST')).filter((line) => line !== 'END');
}

/** The seed clients' way: connect, send one line, close the sending side, read until closed. */
export async function oneShot(port: number, line: string): Promise<string[]> {
  const client = await LineClient.connect(port);
  client.socket.end(`${line}\n`);
  await client.closed;
  return client.lines;
}

/**
 * A starter of fake converters for one test file: every one it started, and every process the
 * file started, is stopped after each test.
 */
export function useFakeConverters(): (units: [string, string], options?: Omit<Parameters<typeof startFakeConverter>[0], 'units'>) => Promise<FakeConverter> {
  const converters: FakeConverter[] = [];
  afterEach(async () => {
    await Promise.all(converters.splice(0).map((c) => c.close()));
    await stopAll();
  });
  return async (units, options = {}) => {
    const c = await startFakeConverter({ units, ...options });
    converters.push(c);
    return c;
  };
}

/** The health LIST shows for `endpoint` (`<host> <port>`), or undefined when it is not listed. */
export async function healthOf(port: number, endpoint: string): Promise<string | undefined> {
  return (await list(port)).find((line) => line.includes(` ${endpoint} `))?.split(' ').at(-1);
}

/** The one-line USAGE error `discovery <argv>` is refused with; throws if it is accepted. */
export function usageError(argv: string[]): string {
  try {
    readConfig(argv);
  } catch (error) {
    if (error instanceof ServerError && error.code === 'USAGE') return error.message;
    throw error;
  }
  throw new Error(`expected ${argv.join(' ')} to be refused`);
}
