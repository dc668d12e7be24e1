import { APP, LineClient, findLogs, startServer, stopAll, waitFor } from '@conv/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { FAST_CHECKS, list, startDiscovery } from './helpers';

afterEach(stopAll);

describe('a converter at its connection limit', () => {
  it('stays up while persistent clients hold every slot: its TOO_MANY_CONNECTIONS counts as alive', async () => {
    const discovery = await startDiscovery(['--db', ':memory:', ...FAST_CHECKS]);
    const converter = await startServer(APP.converter, ['0', '--pair', 'ft:in', '--max-connections', '2', '--discovery', `127.0.0.1:${discovery.port}`]);
    const mine = `ft in 127.0.0.1 ${converter.port}`;
    await waitFor(async () => (await list(discovery.port)).some((line) => line.startsWith(`${mine} up`)), { what: 'the converter up' });

    const holders = [await holdSlot(converter.port), await holdSlot(converter.port)];
    // Every probe from now on is refused as busy; watch the state through fifteen of them (1.5 s of probing).
    const seen = new Set<string>();
    await waitFor(
      async () => {
        // The state word only: a heartbeating converter's line goes on with its lease.
        seen.add((await list(discovery.port)).find((line) => line.startsWith(`${mine} `))?.split(' ')[4] ?? 'gone');
        return findLogs(converter.output(), 'warn', 'connection-refused').length >= 15;
      },
      { what: 'fifteen busy probes', timeoutMs: 30_000 },
    );
    expect([...seen]).toEqual(['up']);
    // The slots still serve their clients meanwhile.
    expect(await holders[0]?.request('ft in 2')).toEqual(['24']);
    for (const holder of holders) holder.close();
  }, 60_000);
});

/**
 * A persistent client holding one of the converter's slots. Discovery's probes come every 100 ms
 * and each takes a slot for a moment: a client that arrives then is refused, and tries again.
 */
async function holdSlot(port: number): Promise<LineClient> {
  return waitFor(
    async () => {
      const client = await LineClient.connect(port);
      if ((await client.nextLine()).endsWith('(TOO_MANY_CONNECTIONS)')) {
        client.close();
        return undefined;
      }
      expect(await client.request('PERSIST')).toEqual(['OK persistent']);
      return client;
    },
    { what: 'a slot of the converter held' },
  );
}
