import { APP, type ServerProcess, startServer, stopAll, waitFor } from '@conv/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { ask, list } from './system';

// The proxy given several discovery replicas, without etcd: two discovery servers with registries
// of their own, each knowing its own x:y converter (a pair the catalog does not know, so each may
// have its own factor and still pass discovery's answer checks): one answers 24 for `x y 2`, the
// other 20. A converter dies with its discovery, so an answer can only come from a
// converter the proxy learned from a live replica: the answer says which replica it asked.

afterEach(stopAll);

const discoveryAt = (port: number): Promise<ServerProcess> =>
  startServer(APP.discovery, ['--port', String(port), '--db', ':memory:', '--check-interval', '100ms']);

/** An x:y converter registered with `discovery` only: 1 x = `factor` y (12 unless told). */
async function converterOn(discovery: ServerProcess, factor = 12): Promise<ServerProcess> {
  const flags = ['--factor', String(factor)];
  const converter = await startServer(APP.converter, ['0', '--pair', 'x:y', ...flags, '--discovery', `127.0.0.1:${discovery.port}`, '--announce-interval', '300ms']);
  await waitFor(async () => (await list(discovery)).some((line) => line.startsWith(`x y 127.0.0.1 ${converter.port} up`)), { what: `converter ${converter.port} up`, timeoutMs: 30_000 });
  return converter;
}

async function killAll(...processes: ServerProcess[]): Promise<void> {
  for (const process of processes) process.kill('SIGKILL');
  await Promise.all(processes.map((process) => process.exited));
}

/** Asks `x y 2` until the answer is `expected`, then five more times: the answers in a row. */
async function answersThrough(proxy: ServerProcess, expected: string, what: string): Promise<string[]> {
  await waitFor(async () => (await ask(proxy, 'x y 2')) === expected, { what, timeoutMs: 30_000 });
  const next: string[] = [];
  for (let i = 0; i < 5; i++) next.push(await ask(proxy, 'x y 2'));
  return next;
}

describe('the proxy with two discovery replicas (no etcd)', () => {
  it('asks the first, fails over to the second when the first dies, stays there, and rotates back when the second dies', async () => {
    let a = await discoveryAt(0);
    const aPort = a.port;
    const b = await discoveryAt(0);
    const knownToA = await converterOn(a);
    const knownToB = await converterOn(b, 10);
    // A short path TTL: the proxy asks discovery again and again, not its cache.
    const proxy = await startServer(APP.proxy, ['0', '--discovery', `127.0.0.1:${a.port},127.0.0.1:${b.port}`, '--path-ttl', '50ms', '--stale-ttl', '50ms']);
    expect(await answersThrough(proxy, '24', 'an answer through a, the first replica')).toEqual(Array(5).fill('24'));

    await killAll(a, knownToA);
    expect(await answersThrough(proxy, '20', 'an answer through b once a died')).toEqual(Array(5).fill('20'));

    // a is back on its port with a converter of its own; the proxy stays with b while b answers...
    a = await discoveryAt(aPort);
    const knownToNewA = await converterOn(a);
    expect(await answersThrough(proxy, '20', 'answers through b while it lives')).toEqual(Array(5).fill('20'));

    // ...and comes round to a again when b dies.
    await killAll(b, knownToB);
    expect(await answersThrough(proxy, '24', 'an answer through a once b died')).toEqual(Array(5).fill('24'));
    await killAll(knownToNewA);
  }, 120_000);
});
