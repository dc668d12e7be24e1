import { APP, type ScriptedServer, exchange, startFakeConverter, startScriptedServer, startServer, stopAll, unavailableReplica, waitFor, listRegistrations } from '@conv/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { DiscoveryReplicas, DiscoverySession, createLogger } from '../src/index';

// Replica A cannot reach the shared registry (etcd) and answers every change and lookup with
// `FAILURE ... (UNAVAILABLE)`, as conv's discovery does then; replica B is a real discovery.
// Every client of discovery must take that answer as "try the next replica", and come back to
// A later. A is scripted (testkit), B is the built discovery app; all over loopback sockets.
const scripted: ScriptedServer[] = [];
afterEach(async () => {
  await stopAll();
  await Promise.all(scripted.splice(0).map((server) => server.close()));
});

async function replicaCutOffFromEtcd(): Promise<ScriptedServer> {
  const server = await startScriptedServer({ answer: unavailableReplica });
  scripted.push(server);
  return server;
}

const liveDiscovery = () => startServer(APP.discovery, ['0', '--db', ':memory:', '--trust-registrations', '--check-interval', '0']);

const list = listRegistrations;

const quiet = () => {
  const lines: string[] = [];
  return { lines, log: createLogger({ name: 'test', level: 'info', write: (line) => lines.push(line) }) };
};

describe('a discovery replica answering UNAVAILABLE', { timeout: 60_000 }, () => {
  it('is passed over by one-request-per-connection clients (DiscoveryReplicas), which come back to it later', async () => {
    const a = await replicaCutOffFromEtcd();
    const b = await liveDiscovery();
    const { lines, log } = quiet();
    const replicas = new DiscoveryReplicas([{ host: '127.0.0.1', port: a.port }, { host: '127.0.0.1', port: b.port }], log, { returnAfterMs: 300 });

    const added = await replicas.request({ verb: 'ADD', units: ['ft', 'in'], endpoint: { host: '127.0.0.1', port: 4001 } }, 2000);
    expect(added).toEqual({ kind: 'success' });
    expect(a.received).toContain('ADD ft in 127.0.0.1 4001');
    expect(replicas.current.port).toBe(b.port);
    expect(lines.some((line) => line.includes('"msg":"discovery-replica-unavailable"'))).toBe(true);
    expect(await list(b.port)).toEqual(['ft in 127.0.0.1 4001 up']);

    // A reaches etcd again; a while after leaving it, requests go to A first again.
    a.answer = (line) => (line === 'PING' ? 'PONG' : unavailableReplica(line));
    const pingsBefore = a.received.filter((line) => line === 'PING').length;
    await waitFor(
      async () => {
        await replicas.request({ verb: 'PING' }, 2000);
        return a.received.filter((line) => line === 'PING').length > pingsBefore;
      },
      { what: 'a request to go to the first replica again', timeoutMs: 10_000 },
    );
    expect(replicas.current.port).toBe(a.port);
    expect(lines.some((line) => line.includes('"msg":"discovery-return"'))).toBe(true);
  });

  it('answers UNAVAILABLE only when every replica does', async () => {
    const [a, b] = [await replicaCutOffFromEtcd(), await replicaCutOffFromEtcd()];
    const replicas = new DiscoveryReplicas([{ host: '127.0.0.1', port: a.port }, { host: '127.0.0.1', port: b.port }], quiet().log);
    const reply = await replicas.request({ verb: 'LOOKUP', units: ['ft', 'in'] }, 2000);
    expect(reply).toMatchObject({ kind: 'failure', failure: { code: 'UNAVAILABLE' } });
    expect(a.received).toContain('LOOKUP ft in');
    expect(b.received).toContain('LOOKUP ft in');
  });

  it('is passed over by the pipelined session (DiscoverySession), which sends what was pending to the next replica and comes back later', async () => {
    const a = await replicaCutOffFromEtcd();
    const b = await liveDiscovery();
    expect(await exchange(b.port, 'ADD ft in 127.0.0.1 4002')).toEqual(['SUCCESS']);
    const { lines, log } = quiet();
    const session = new DiscoverySession({ addresses: [{ host: '127.0.0.1', port: a.port }, { host: '127.0.0.1', port: b.port }], timeoutMs: 2000, log, returnAfterMs: 300 });
    session.start();
    try {
      await waitFor(() => session.isUp, { what: 'the session to replica A' });
      expect(session.address.port).toBe(a.port);
      const [first, second] = await Promise.all([session.request({ verb: 'LOOKUP', units: ['ft', 'in'] }), session.request({ verb: 'LOOKUP', units: ['in', 'ft'] })]);
      expect(first).toEqual({ kind: 'endpoint', endpoint: { host: '127.0.0.1', port: 4002 } });
      expect(second).toEqual({ kind: 'endpoint', endpoint: { host: '127.0.0.1', port: 4002 } });
      expect(session.address.port).toBe(b.port);
      expect(lines.some((line) => line.includes('"msg":"discovery-replica-unavailable"'))).toBe(true);

      // Back to A once the session has been away from it a while, with nothing in flight.
      const connectionsBefore = a.connections;
      await waitFor(() => a.connections > connectionsBefore && session.isUp && session.address.port === a.port, { what: 'the session back on replica A', timeoutMs: 10_000 });
      expect(lines.some((line) => line.includes('"msg":"discovery-return"'))).toBe(true);
    } finally {
      session.close();
    }
  });

  it('does not stop a converter registering through the next replica, nor the proxy answering through it', async () => {
    const a = await replicaCutOffFromEtcd();
    const b = await liveDiscovery();
    const both = `127.0.0.1:${a.port},127.0.0.1:${b.port}`;
    const converter = await startServer(APP.converter, ['0', '--pair', 'ft:in', '--discovery', both, '--announce-interval', '200ms']);
    await waitFor(async () => (await list(b.port)).some((line) => line.startsWith(`ft in 127.0.0.1 ${converter.port} up`)), { what: 'the converter registered on replica B', timeoutMs: 20_000 });
    expect(a.received).toContain(`ADD ft in 127.0.0.1 ${converter.port}`);

    const fake = await startFakeConverter({ units: ['kg', 'g'], factor: 1000 });
    expect(await exchange(b.port, `ADD kg g 127.0.0.1 ${fake.port}`)).toEqual(['SUCCESS']);
    const proxy = await startServer(APP.proxy, ['0', '--discovery', both]);
    const answers = await Promise.all([exchange(proxy.port, 'ft in 1'), exchange(proxy.port, 'kg g 2')]);
    expect(answers.map((lines) => lines.at(-1))).toEqual(['12', '2000']);
    await fake.close();
  });
});
