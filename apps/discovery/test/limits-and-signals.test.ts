import { LineClient, findLog, stopAll, waitFor } from '@conv/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { ask, openSession, startDiscovery } from './helpers';

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
    expect(answers.filter((answer) => answer !== 'PONG')).toEqual([]);
    expect(idle.lines).toEqual([]);
    await good.stillServed();
    good.client.close();
  });
});

describe('signals', () => {
  it('SIGTERM answers what is in flight, closes connections and exits 0', async () => {
    const discovery = await startDiscovery(['--db', ':memory:']);
    const client = await LineClient.connect(discovery.port);
    expect(await ask(client, 'PING')).toEqual(['PONG']);
    expect(await discovery.stop('SIGTERM')).toBe(0);
    await client.closed;
    expect(findLog(discovery.output(), 'info', 'shutdown')).toBeDefined();
  });

  it('SIGINT exits 0 too', async () => {
    const discovery = await startDiscovery(['--db', ':memory:']);
    expect(await discovery.stop('SIGINT')).toBe(0);
  });
});
