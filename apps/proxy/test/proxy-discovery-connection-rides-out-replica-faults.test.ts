import { DiscoverySession, createLogger } from '@conv/server';
import { APP, type ServerProcess, exchange, findLogs, startServer, stopAll, waitFor } from '@conv/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { ask, list } from './system';

// The proxy's connection to discovery when it is given two replicas (`--discovery a,b`), without
// etcd: two real discovery processes with in-memory registries of their own, faulted with real
// signals. The proxy talks to discovery through one DiscoverySession (packages/server), made as
// startProxy makes it; the keepalive case runs the proxy process itself.

const sessions: DiscoverySession[] = [];
afterEach(async () => {
  for (const session of sessions.splice(0)) session.close();
  await stopAll();
});

/** A discovery replica that trusts registrations and never probes: its registry is what the test ADDs. */
const replica = (port = 0): Promise<ServerProcess> =>
  startServer(APP.discovery, ['--port', String(port), '--db', ':memory:', '--trust-registrations', '--check-interval', '0']);

async function register(discovery: ServerProcess, ...lines: string[]): Promise<void> {
  for (const line of lines) expect(await exchange(discovery.port, `ADD ${line}`)).toEqual(['SUCCESS']);
}

/** The proxy's discovery client over replicas `a` then `b`; `timeoutMs` is the proxy's wait (its hop timeout). */
function sessionOver(replicas: readonly ServerProcess[], options: { timeoutMs: number; returnAfterMs?: number }): { session: DiscoverySession; logged: string[] } {
  const logged: string[] = [];
  const session = new DiscoverySession({
    addresses: replicas.map((r) => ({ host: '127.0.0.1', port: r.port })),
    timeoutMs: options.timeoutMs,
    log: createLogger({ name: 'proxy', level: 'info', write: (line) => logged.push(line) }),
    ...(options.returnAfterMs === undefined ? {} : { returnAfterMs: options.returnAfterMs }),
  });
  sessions.push(session);
  session.start();
  return { session, logged };
}

const lookup = (session: DiscoverySession, a: string, b: string) => session.request({ verb: 'LOOKUP', units: [a, b] });
const endpointAt = (port: number) => ({ kind: 'endpoint', endpoint: { host: '127.0.0.1', port } });

describe('the proxy given two discovery replicas, faulted with real signals', { timeout: 60_000 }, () => {
  it('answers every request in flight on its connection when the replica it uses is SIGKILLed: they go to the other one', async () => {
    const [a, b] = [await replica(), await replica()];
    // The same pair, another endpoint on each: an answer says which replica gave it.
    await register(a, 'x y 127.0.0.1 4001');
    await register(b, 'x y 127.0.0.1 4002');
    const { session } = sessionOver([a, b], { timeoutMs: 20_000 });
    await waitFor(() => session.isUp, { what: 'the connection to replica a' });
    expect(await lookup(session, 'x', 'y')).toEqual(endpointAt(4001));

    // Frozen first, so that not one of the requests can be answered before a dies.
    a.kill('SIGSTOP');
    const inFlight = Array.from({ length: 20 }, () => lookup(session, 'x', 'y'));
    a.kill('SIGKILL');
    await a.exited;
    expect(await Promise.all(inFlight)).toEqual(Array(20).fill(endpointAt(4002)));
    expect(session.address.port).toBe(b.port);
  });

  it('comes back to the first replica after leaving it for its death, once it is back', async () => {
    let a = await replica();
    const b = await replica();
    await register(a, 'x y 127.0.0.1 4001');
    await register(b, 'x y 127.0.0.1 4002');
    const { session, logged } = sessionOver([a, b], { timeoutMs: 5_000, returnAfterMs: 300 });
    await waitFor(() => session.isUp, { what: 'the connection to replica a' });

    const aPort = a.port;
    a.kill('SIGKILL');
    await a.exited;
    await waitFor(async () => session.isUp && session.address.port === b.port && JSON.stringify(await lookup(session, 'x', 'y')) === JSON.stringify(endpointAt(4002)), {
      what: 'answers from replica b once a died',
    });

    // a returns on its port with a registry of its own: the session goes back to it by itself.
    a = await replica(aPort);
    await register(a, 'x y 127.0.0.1 4003');
    await waitFor(async () => session.isUp && JSON.stringify(await lookup(session, 'x', 'y').catch(() => undefined)) === JSON.stringify(endpointAt(4003)), {
      what: 'answers from replica a again',
      timeoutMs: 20_000,
    });
    expect(session.address.port).toBe(aPort);
    expect(logged.some((line) => line.includes('"msg":"discovery-return"'))).toBe(true);
  });

  it('never takes a reply that came after its deadline for the answer to a later request', async () => {
    const [a, b] = [await replica(), await replica()];
    // Both replicas hold both pairs: whichever answers, only the pair asked decides the endpoint.
    for (const r of [a, b]) await register(r, 'x y 127.0.0.1 4001', 'p q 127.0.0.1 4002');
    // The proxy's own wait for discovery: its default hop timeout.
    const { session } = sessionOver([a, b], { timeoutMs: 1_000 });
    await waitFor(() => session.isUp && session.address.port === a.port, { what: 'the connection to replica a' });

    a.kill('SIGSTOP');
    const timedOut = await lookup(session, 'x', 'y').then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(timedOut).toMatchObject({ code: 'DISCOVERY_UNREACHABLE' });
    expect(timedOut instanceof Error ? timedOut.message : '').toContain('did not answer within 1000ms');
    await waitFor(() => session.isUp, { what: 'a connection again after the deadline' });
    const later = lookup(session, 'p', 'q');
    // a wakes up and answers `LOOKUP x y` now, late: that reply must not answer `LOOKUP p q`.
    a.kill('SIGCONT');
    expect(await later).toEqual(endpointAt(4002));
    for (let i = 0; i < 5; i++) expect(await lookup(session, 'p', 'q')).toEqual(endpointAt(4002));
  });

  it('notices with its keepalive PING a replica that went silent (SIGSTOP) and moves to the other one', async () => {
    // x:y converters, one registered with each replica: 1 x = 12 y through a, 10 y through b.
    const [a, b] = [await replica(), await replica()];
    const converterOn = async (discovery: ServerProcess, factor: number) => {
      const converter = await startServer(APP.converter, ['0', '--pair', 'x:y', '--factor', String(factor), '--discovery', `127.0.0.1:${discovery.port}`]);
      await waitFor(async () => (await list(discovery)).some((line) => line.startsWith(`x y 127.0.0.1 ${converter.port} up`)), { what: `converter ${converter.port} up`, timeoutMs: 30_000 });
    };
    await converterOn(a, 12);
    await converterOn(b, 10);
    const proxy = await startServer(APP.proxy, ['0', '--discovery', `127.0.0.1:${a.port},127.0.0.1:${b.port}`]);
    await waitFor(async () => (await ask(proxy, 'x y 2')) === '24', { what: 'answers through the view from replica a', timeoutMs: 30_000 });

    // Alive, connection open, silent: nothing closes; only an unanswered PING can tell.
    a.kill('SIGSTOP');
    await waitFor(async () => (await ask(proxy, 'x y 2')) === '20', { what: 'answers through the view from replica b', timeoutMs: 30_000 });
    expect(findLogs(proxy.output(), 'warn', 'discovery-timeout').map((event) => event.address)).toContain(`127.0.0.1:${a.port}`);
    for (let i = 0; i < 5; i++) expect(await ask(proxy, 'x y 2')).toBe('20');
  });
});
