import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { APP, LineClient, type ServerProcess, exchange, findLogs, startServer, stopAll, waitFor } from '@conv/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { startDiscovery, startProxy, waitUp } from './system';

afterEach(async () => {
  await stopAll();
});

/** A converter that does not register itself: the test registers and removes it, as an operator. */
function startQuietConverter(pair: string): Promise<ServerProcess> {
  return startServer(APP.converter, ['0', '--pair', pair, '--no-register']);
}

async function discoveryAsk(discovery: { port: number }, line: string): Promise<string> {
  const client = await LineClient.connect(discovery.port);
  try {
    return (await client.request(line))[0] ?? '';
  } finally {
    client.close();
  }
}

/** One traced request through the proxy: the port of the converter that answered it. */
async function tracedPort(proxy: { port: number }): Promise<number> {
  const lines = await exchange(proxy.port, 'TRACE ft in 1');
  const hop = lines.find((line) => line.startsWith('HOP '));
  if (hop === undefined || lines.at(-1) !== '12') throw new Error(`traced request answered ${JSON.stringify(lines)}`);
  return Number(hop.split(' ')[4]);
}

/** Whether the proxy has applied a change from its watch (logged at debug). */
function applied(proxy: ServerProcess, change: { kind: string; port: number; health?: string }): boolean {
  return findLogs(proxy.output(), 'debug', 'watch-change').some(
    (event) => event.kind === change.kind && event.endpoint === `127.0.0.1:${change.port}` && (change.health === undefined || event.health === change.health),
  );
}

/** The epochs of the proxy's snapshots (not resumes), in order. */
function snapshotEpochs(proxy: ServerProcess): string[] {
  return findLogs(proxy.output(), 'debug', 'discovery-watch-synced')
    .filter((event) => event.resumed === false)
    .map((event) => String(event.epoch));
}

function tally(ports: readonly number[]): Map<number, number> {
  const counts = new Map<number, number>();
  for (const port of ports) counts.set(port, (counts.get(port) ?? 0) + 1);
  return counts;
}

async function sequential(proxy: { port: number }, count: number): Promise<number[]> {
  const ports: number[] = [];
  for (let i = 0; i < count; i++) ports.push(await tracedPort(proxy));
  return ports;
}

async function concurrent(proxy: { port: number }, clients: number, each: number): Promise<number[]> {
  const runs = await Promise.all(Array.from({ length: clients }, () => sequential(proxy, each)));
  return runs.flat();
}

describe('the proxy routes by the view discovery pushes to it', () => {
  it('sends no request to an endpoint its owner removed once the change has arrived (case 1)', { timeout: 90_000 }, async () => {
    const discovery = await startDiscovery();
    const converters = await Promise.all([1, 2, 3].map(() => startQuietConverter('ft:in')));
    for (const converter of converters) expect(await discoveryAsk(discovery, `ADD ft in 127.0.0.1 ${converter.port}`)).toBe('SUCCESS');
    await waitUp(discovery, 3);
    const proxy = await startProxy(discovery, ['--log-level', 'debug']);
    const seen = new Set<number>();
    await waitFor(async () => (seen.add(await tracedPort(proxy)), seen.size === 3), { what: 'the proxy to use all three replicas', timeoutMs: 20_000 });

    const drained = converters[0]!.port;
    // From the endpoint's own host: the owner's REMOVE, durable.
    expect(await discoveryAsk(discovery, `REMOVE 127.0.0.1 ${drained}`)).toBe('SUCCESS');
    await waitFor(() => applied(proxy, { kind: 'removed', port: drained }), {
      what: 'the removal to reach the proxy',
      timeoutMs: 10_000,
    });
    const after = await sequential(proxy, 60);
    expect(after.filter((port) => port === drained)).toEqual([]);
    expect(new Set(after)).toEqual(new Set([converters[1]!.port, converters[2]!.port]));
  });

  it('spreads requests 10/10/10 from the first one, evenly under concurrency, and gives a joining replica its share (case 10)', { timeout: 120_000 }, async () => {
    const discovery = await startDiscovery();
    const converters = await Promise.all([1, 2, 3].map(() => startQuietConverter('ft:in')));
    for (const converter of converters) await discoveryAsk(discovery, `ADD ft in 127.0.0.1 ${converter.port}`);
    await waitUp(discovery, 3);
    const proxy = await startProxy(discovery, ['--log-level', 'debug']);

    const first = tally(await sequential(proxy, 30));
    expect(first.size).toBe(3);
    for (const count of first.values()) expect(Math.abs(count - 10)).toBeLessThanOrEqual(1);

    const together = tally(await concurrent(proxy, 8, 20));
    expect(together.size).toBe(3);
    for (const count of together.values()) expect(Math.abs(count - 160 / 3)).toBeLessThanOrEqual((160 / 3) * 0.1);

    const joiner = await startQuietConverter('ft:in');
    await discoveryAsk(discovery, `ADD ft in 127.0.0.1 ${joiner.port}`);
    await waitFor(() => applied(proxy, { kind: 'health', port: joiner.port, health: 'up' }), {
      what: 'the joining replica to be up in the proxy view',
      timeoutMs: 10_000,
    });
    const withJoiner = tally(await sequential(proxy, 40));
    expect(withJoiner.size).toBe(4);
    for (const count of withJoiner.values()) expect(Math.abs(count - 10)).toBeLessThanOrEqual(1);
  });

  it('takes a fresh snapshot from a restarted discovery (a new epoch) and keeps serving from its last view meanwhile', { timeout: 120_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'proxy-watch-'));
    try {
      const db = join(dir, 'registry.db');
      let discovery = await startDiscovery({ db });
      const converters = await Promise.all([1, 2].map(() => startQuietConverter('ft:in')));
      for (const converter of converters) await discoveryAsk(discovery, `ADD ft in 127.0.0.1 ${converter.port}`);
      await waitUp(discovery, 2);
      const proxy = await startProxy(discovery, ['--log-level', 'debug']);
      expect(tally(await sequential(proxy, 4)).size).toBe(2);
      const [firstSync] = snapshotEpochs(proxy);
      expect(firstSync).toBeDefined();

      discovery.kill('SIGKILL');
      await discovery.exited;
      await waitFor(() => proxy.output().includes('discovery-unreachable'), { what: 'the proxy to notice discovery is gone' });
      // Stale is better than nothing: both replicas still serve.
      expect(tally(await sequential(proxy, 4)).size).toBe(2);

      discovery = await startDiscovery({ db, port: discovery.port });
      // The restarted discovery restores both (pending, then up): the proxy takes its snapshot.
      await waitFor(() => snapshotEpochs(proxy).some((epoch) => epoch !== firstSync), {
        what: 'a fresh snapshot from the new epoch',
        timeoutMs: 20_000,
      });
      await waitUp(discovery, 2);
      await waitFor(async () => tally(await sequential(proxy, 6)).size === 2, { what: 'both replicas in use again', timeoutMs: 10_000 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
