import { type LineClient, type ServerProcess, stopAll, waitFor } from '@conv/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import { ask, askOnce, openSession, startDiscovery, tempDir } from './helpers';

const dir = tempDir();
afterAll(async () => {
  await stopAll();
  dir.remove();
});

/** Sends WATCH (with its arguments) and reads the reply up to SYNCED. */
async function watch(client: LineClient, args = ''): Promise<{ lines: string[]; epoch: string; seq: number }> {
  client.send(`WATCH${args}`);
  const lines: string[] = [];
  for (;;) {
    const line = await client.nextLine();
    lines.push(line);
    const synced = /^SYNCED (\S+) (\d+)$/.exec(line);
    if (synced) return { lines, epoch: synced[1] ?? '', seq: Number(synced[2]) };
  }
}

describe('WATCH over TCP', () => {
  let discovery: ServerProcess;

  it('lists watch among its features, answers a snapshot then SYNCED, and pushes each change in order', { timeout: 60_000 }, async () => {
    discovery = await startDiscovery(['--db', dir.file('watch.db'), '--trust-registrations', '--check-interval', '0']);
    expect(await askOnce(discovery.port, 'FEATURES')).toEqual([expect.stringMatching(/^FEATURES .*\bwatch\b/)]);
    await askOnce(discovery.port, 'ADD ft in 127.0.0.1 4001');
    const watcher = await openSession(discovery.port);
    const first = await watch(watcher, ' as=test-watcher');
    expect(first.lines).toEqual(['ENTRY ft in 127.0.0.1 4001 up', `SYNCED ${first.epoch} 1`]);
    await askOnce(discovery.port, 'ADD kg g 127.0.0.1 4002');
    await askOnce(discovery.port, 'REMOVE 127.0.0.1 4001');
    expect(await watcher.nextLines(2)).toEqual([`CHANGE ${first.epoch} 2 added g kg 127.0.0.1 4002 up`, `CHANGE ${first.epoch} 3 removed ft in 127.0.0.1 4001 up`]);
    // The watcher's own requests are answered in order between changes.
    expect(await ask(watcher, 'PING')).toEqual(['PONG']);
    watcher.close();
  });

  it('resumes a watcher with the changes it missed, and gives a fresh snapshot for another epoch', { timeout: 60_000 }, async () => {
    const before = await openSession(discovery.port);
    const position = await watch(before);
    before.close();
    await askOnce(discovery.port, 'ADD lbs oz 127.0.0.1 4003');
    const again = await openSession(discovery.port);
    const resumed = await watch(again, ` ${position.epoch} ${position.seq}`);
    expect(resumed.lines).toEqual([`SYNCED ${position.epoch} ${position.seq}`]);
    expect(await again.nextLine()).toBe(`CHANGE ${position.epoch} ${position.seq + 1} added lbs oz 127.0.0.1 4003 up`);
    again.close();

    // A restart makes a new epoch: the old position is worth a fresh snapshot only.
    await discovery.stop();
    discovery = await startDiscovery(['--db', dir.file('watch.db'), '--trust-registrations', '--check-interval', '0']);
    const fresh = await openSession(discovery.port);
    const after = await watch(fresh, ` ${position.epoch} ${position.seq + 1}`);
    expect(after.epoch).not.toBe(position.epoch);
    expect(after.lines.filter((line) => line.startsWith('ENTRY ')).sort()).toEqual(['ENTRY g kg 127.0.0.1 4002 pending', 'ENTRY lbs oz 127.0.0.1 4003 pending']);
    fresh.close();
  });

  it('keeps a watch open past the idle timeout that closes a quiet session', { timeout: 60_000 }, async () => {
    await discovery.stop();
    discovery = await startDiscovery(['--db', ':memory:', '--trust-registrations', '--check-interval', '0', '--idle-timeout', '300ms']);
    const watcher = await openSession(discovery.port);
    const position = await watch(watcher);
    const quiet = await openSession(discovery.port);
    await waitFor(() => quiet.isClosed, { what: 'the idle session to be closed', timeoutMs: 10_000 });
    expect(watcher.isClosed).toBe(false);
    await askOnce(discovery.port, 'ADD ft in 127.0.0.1 4005');
    expect(await watcher.nextLine()).toBe(`CHANGE ${position.epoch} ${position.seq + 1} added ft in 127.0.0.1 4005 up`);
    watcher.close();
  });

  it('answers a malformed WATCH with one failure and keeps the connection as it was', { timeout: 60_000 }, async () => {
    const client = await openSession(discovery.port);
    expect(await ask(client, 'WATCH abc')).toEqual([expect.stringMatching(/^FAILURE wrong number of arguments\..*\(BAD_ARITY\)$/)]);
    expect(await ask(client, 'PING')).toEqual(['PONG']);
    client.close();
  });
});
