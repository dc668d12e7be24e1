import { LineClient, loggedHttpUrl, parsePrometheusText, sampleValue, startFakeConverter, stopAll, waitFor } from '@conv/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { readReply, startDiscovery } from './helpers';

afterEach(stopAll);

/**
 * The seed's suggested test, typed at telnet: no SESSION, a pause longer than the close grace
 * before each line, fake addresses with no server behind them (127.x here: loopback only).
 */
const SEED_SEQUENCE: readonly (readonly [string, readonly (string | RegExp)[]])[] = [
  ['ADD lbs b 127.0.0.1 1234', ['SUCCESS']],
  ['ADD ban b 127.0.0.2 1233', ['SUCCESS']],
  ['LOOKUP lbs b', ['127.0.0.1 1234']],
  ['LOOKUP_MULTI ban lbs', ['ban b 127.0.0.2 1233 0', 'b lbs 127.0.0.1 1234 1']],
  ['REMOVE lbs b', ['SUCCESS']],
  ['LOOKUP lbs b', [/^FAILURE unknown pair\. No healthy server converts b <-> lbs\. \(UNKNOWN_PAIR\)$/]],
  ['LIST', ['b ban 127.0.0.2 1233 up', 'END']],
];

/** Waits (by polling the clock) longer than `ms`, as a person typing the next line does. */
const typeSlowerThan = (ms: number) => {
  const typed = Date.now() + ms + 100;
  return waitFor(() => Date.now() > typed, { what: 'the person to type' });
};

describe('discovery --classroom', { timeout: 60_000 }, () => {
  it("gives the seed's answers to the seed's telnet sequence with fake addresses, on one connection without SESSION", async () => {
    const discovery = await startDiscovery(['--classroom', '--close-grace', '100ms']);
    expect(discovery.banner).toMatch(/registry :memory:/);
    expect(discovery.banner).toMatch(/classroom mode: ADD is trusted and handed out at once, nothing is ever probed or health-checked, connections stay open without SESSION/);
    const person = await LineClient.connect(discovery.port);
    for (const [line, expected] of SEED_SEQUENCE) {
      await typeSlowerThan(100);
      person.send(line);
      const answer = await readReply(person, line);
      expect(answer, line).toHaveLength(expected.length);
      expected.forEach((want, i) => (typeof want === 'string' ? expect(answer[i], line).toBe(want) : expect(answer[i], line).toMatch(want)));
    }
    expect(person.isClosed).toBe(false);
    person.close();
  });

  it('probes nothing: no endpoint is tracked for checks, and a report of a live server sends it no request', async () => {
    const discovery = await startDiscovery(['--classroom', '--http-port', '0']);
    const url = await waitFor(() => loggedHttpUrl(discovery.output()), { what: 'the http-listening log line', timeoutMs: 10_000 });
    // A real server behind one address: a probe would show up in its requests.
    const live = await startFakeConverter({ units: ['ft', 'in'], factor: 12, host: '127.0.0.3' });
    const owner = await LineClient.connect(discovery.port);
    for (const line of ['ADD lbs b 127.0.0.1 1234', `ADD ft in 127.0.0.3 ${live.port}`]) {
      owner.send(line);
      expect(await owner.nextLine(), line).toBe('SUCCESS');
    }
    // From another host, REMOVE is a report (docs/protocol.md); classroom mode probes nothing for it.
    const stranger = await LineClient.connect(discovery.port, { localAddress: '127.0.0.2' });
    stranger.send(`REMOVE 127.0.0.3 ${live.port}`);
    expect(await stranger.nextLine()).toBe('SUCCESS');
    const metrics = parsePrometheusText(await (await fetch(`${url}metrics`)).text());
    // Tracking, queueing and sending a probe all happen before the reply above was written.
    expect(sampleValue(metrics, 'discovery_probes', { state: 'tracked' })).toBe(0);
    expect(sampleValue(metrics, 'discovery_probes', { state: 'queued' })).toBe(0);
    expect(sampleValue(metrics, 'discovery_probes', { state: 'in_flight' })).toBe(0);
    expect(live.requests).toEqual([]);
    owner.close();
    stranger.close();
    await live.close();
  });

  it('refuses what contradicts it: a registry file, etcd, health checks', async () => {
    const refused = async (...args: string[]) => {
      const started = startDiscovery(['--classroom', ...args]);
      await expect(started).rejects.toThrow(/exited \(\d+\) before its banner/);
      return started.catch((error: Error) => error.message);
    };
    expect(await refused('--db', 'x.db')).toMatch(/--classroom keeps the registry in memory; --db cannot be given with it/);
    expect(await refused('--store', 'etcd://127.0.0.1:2379')).toMatch(/--store cannot be given with it/);
    expect(await refused('--check-interval', '1s')).toMatch(/--classroom turns health checks off/);
  });
});
