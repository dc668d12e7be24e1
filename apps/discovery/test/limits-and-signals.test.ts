import { type AddressInfo, type Socket, createServer } from 'node:net';
import { LineClient, findLog, stopAll, waitFor } from '@conv/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { ask, openSession, readReply, startDiscovery } from './helpers';

afterEach(() => stopAll());

/** A client that keeps being served while another one breaks a limit. */
async function wellBehaved(port: number) {
  const client = await openSession(port);
  return {
    client,
    stillServed: async () => expect(await ask(client, 'PING')).toEqual(['PONG']),
    /** One PING's reply, kept for judging later (inside a retried probe an assertion would be swallowed). */
    answer: async () => (await ask(client, 'PING')).join('\n'),
  };
}

describe('limits', () => {
  it('refuses a too-long line with LINE_TOO_LONG and closes that connection only', async () => {
    const discovery = await startDiscovery(['--db', ':memory:', '--max-line-bytes', '100']);
    const good = await wellBehaved(discovery.port);
    const bad = await LineClient.connect(discovery.port);
    bad.send(`PING\nLOOKUP ${'x'.repeat(200)} y\nPING\n`);
    await bad.closed;
    expect(bad.lines).toEqual(['PONG', 'FAILURE line too long. Lines are limited to 100 bytes. (LINE_TOO_LONG)']);
    await good.stillServed();
    // A line at the limit is fine.
    expect(await ask(good.client, `PING${' '.repeat(96)}`)).toEqual(['PONG']);
    good.client.close();
  });

  it('refuses connections over --max-connections with TOO_MANY_CONNECTIONS', async () => {
    const discovery = await startDiscovery(['--db', ':memory:', '--max-connections', '2']);
    const good = await wellBehaved(discovery.port);
    const second = await openSession(discovery.port);
    expect(await ask(second, 'PING')).toEqual(['PONG']);
    const third = await LineClient.connect(discovery.port);
    await third.closed;
    expect(third.lines).toEqual(['FAILURE too many connections. This server takes 2 connections at most; try again later. (TOO_MANY_CONNECTIONS)']);
    await good.stillServed();
    second.close();
    // A freed slot is available again.
    await waitFor(
      async () => {
        const again = await LineClient.connect(discovery.port);
        again.send('PING');
        const line = await again.nextLine().catch(() => '');
        again.close();
        return line === 'PONG';
      },
      { what: 'a connection accepted again' },
    );
    good.client.close();
  });

  it('closes a connection idle past --idle-timeout without a word (course clients read until the close), not a busy one', async () => {
    const discovery = await startDiscovery(['--db', ':memory:', '--idle-timeout', '300ms']);
    const good = await wellBehaved(discovery.port);
    const idle = await LineClient.connect(discovery.port);
    // The good client keeps talking (and so stays open) while the idle one is timed out.
    const answers: string[] = [];
    await waitFor(
      async () => {
        answers.push(await good.answer());
        return idle.isClosed;
      },
      { what: 'the idle connection closed' },
    );
    expect(answers.filter((answer) => answer !== 'PONG'), 'every answer while waiting').toEqual([]);
    expect(idle.lines).toEqual([]);
    await good.stillServed();
    good.client.close();
  });
});

describe('signals', () => {
  it('SIGTERM answers what is in flight, closes connections and exits 0', async () => {
    // A converter that reads its request and answers only when the test says: discovery's
    // admission probe to it, and so the ADD waiting on that probe, stay in flight until then.
    const probes: { socket: Socket; request: string }[] = [];
    let released = false;
    // A c/d converter, 1 c = 2 d, both ways (the admission probe checks the inverse too).
    const answer = ({ socket, request }: { socket: Socket; request: string }) => {
      const [from, to, amount] = request.trim().split(/\s+/);
      const x = Number(amount);
      socket.end(from === 'c' && to === 'd' ? `${x * 2}\n` : from === 'd' && to === 'c' ? `${x / 2}\n` : 'FAILURE wrong pair. (WRONG_PAIR)\n');
    };
    const gate = createServer((socket) => {
      const probe = { socket, request: '' };
      probes.push(probe);
      socket.on('error', () => undefined);
      socket.on('data', (chunk) => {
        probe.request += chunk.toString('utf8');
        if (released) answer(probe);
      });
    });
    await new Promise<void>((resolve) => gate.listen(0, '127.0.0.1', resolve));
    const gatePort = (gate.address() as AddressInfo).port;
    try {
      const discovery = await startDiscovery(['--db', ':memory:', '--check-interval', '100ms', '--check-timeout', '30s', '--shutdown-timeout', '30s']);
      const client = await openSession(discovery.port);
      // Registered for a/b, pending: its first probe hangs at the gate.
      expect(await ask(client, `ADD a b 127.0.0.1 ${gatePort}`)).toEqual(['SUCCESS']);
      // The same endpoint for c/d: admitted only once a probe proves it serves c/d. In flight.
      const inFlight = `ADD c d 127.0.0.1 ${gatePort}`;
      client.send(inFlight);
      await waitFor(() => probes.some((probe) => probe.request.startsWith('c d ')), { what: 'the admission probe for c/d at the gate' });

      discovery.kill('SIGTERM');
      await waitFor(() => findLog(discovery.output(), 'info', 'stopping'), { what: 'the stopping log line' });
      // Only now does the gate answer, as a c/d converter.
      released = true;
      for (const probe of probes) if (probe.request !== '') answer(probe);

      expect(await readReply(client, inFlight, 30_000)).toEqual(['SUCCESS']);
      await client.closed;
      expect(await discovery.exited).toBe(0);
      expect(findLog(discovery.output(), 'info', 'shutdown')).toBeDefined();
    } finally {
      for (const { socket } of probes) socket.destroy();
      gate.close();
    }
  }, 60_000);

  it('SIGINT exits 0 too', async () => {
    const discovery = await startDiscovery(['--db', ':memory:']);
    expect(await discovery.stop('SIGINT')).toBe(0);
  });
});
