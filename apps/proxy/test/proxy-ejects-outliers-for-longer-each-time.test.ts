import { type ProxyFigures, ProxyFiguresSchema } from '@conv/protocol';
import { type FakeConverter, type ServerProcess, exchange, findLogs, loggedHttpUrl, startFakeConverter, stopAll, waitFor } from '@conv/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { ask, startDiscovery, startProxy, waitUp } from './system';

const fakes: FakeConverter[] = [];
afterEach(async () => {
  await Promise.all(fakes.splice(0).map((fake) => fake.close()));
  await stopAll();
});

// The proxy's requests ask for 777 ft; discovery's probes ask for other amounts. So a replica
// that drops `ft in 777` fails the proxy's hops while passing every probe: discovery keeps it
// `up` and the proxy's own ejection is all that keeps requests away from it.
const REQUEST = 'ft in 777';
const ANSWER = '9324';

/** A persistent ft:in replica that closes the connection on REQUEST while `failing.now`. */
async function replica(failing: { now: boolean }): Promise<FakeConverter> {
  const fake = await startFakeConverter({ units: ['ft', 'in'], persist: true, script: ({ line }) => (failing.now && line === REQUEST ? 'close' : undefined) });
  fakes.push(fake);
  return fake;
}

const hits = (fake: FakeConverter) => fake.requests.filter((line) => line === REQUEST).length;

async function figures(proxy: ServerProcess): Promise<ProxyFigures> {
  const url = await waitFor(() => loggedHttpUrl(proxy.output()), { what: 'the http.listening log line', timeoutMs: 10_000 });
  const response = await fetch(`${url}status.json`);
  expect(response.status).toBe(200);
  return ProxyFiguresSchema.parse(await response.json());
}

const recordOf = (f: ProxyFigures, fake: FakeConverter) => f.outliers.find((r) => r.endpoint === `127.0.0.1:${fake.port}`);
const ejectedLogs = (proxy: ServerProcess, fake: FakeConverter) => findLogs(proxy.output(), 'warn', 'endpoint-ejected').filter((e) => e.endpoint === `127.0.0.1:${fake.port}`);

async function system(ejection: string[]) {
  const discovery = await startDiscovery();
  const goodState = { now: false };
  const badState = { now: true };
  const good = await replica(goodState);
  const bad = await replica(badState);
  for (const fake of [good, bad]) expect(await exchange(discovery.port, `ADD ft in 127.0.0.1 ${fake.port}`)).toEqual(['SUCCESS']);
  await waitUp(discovery, 2);
  const proxy = await startProxy(discovery, ['--http-port', '0', ...ejection]);
  return { discovery, proxy, good, bad, badState };
}

describe('the proxy ejects a failing replica for longer each time (outlier detection)', () => {
  it('doubles the ejection while the replica keeps failing, and starts over once it answers', { timeout: 90_000 }, async () => {
    const { proxy, bad, badState } = await system(['--ejection-time', '100ms', '--max-ejection-time', '1m']);
    // Every answer is right: a failed hop moves to the other replica.
    await waitFor(
      async () => {
        expect(await ask(proxy, REQUEST)).toBe(ANSWER);
        return (recordOf(await figures(proxy), bad)?.consecutive ?? 0) >= 3;
      },
      { what: 'three ejections in a row of the failing replica', timeoutMs: 45_000 },
    );
    const grown = recordOf(await figures(proxy), bad);
    expect(grown?.ejectionMs).toBe(100 * 2 ** ((grown?.consecutive ?? 0) - 1));
    expect(ejectedLogs(proxy, bad).slice(0, 3).map((e) => [e.consecutive, e.ejectionMs])).toEqual([
      [1, 100],
      [2, 200],
      [3, 400],
    ]);
    expect((await figures(proxy)).ejections).toBeGreaterThanOrEqual(3);

    // It answers again: the next request it gets clears its record.
    badState.now = false;
    await waitFor(
      async () => {
        expect(await ask(proxy, REQUEST)).toBe(ANSWER);
        return recordOf(await figures(proxy), bad) === undefined;
      },
      { what: 'the replica that answered to lose its record', timeoutMs: 30_000 },
    );
    // Failing again, it is ejected for the base time, not the grown one.
    const before = ejectedLogs(proxy, bad).length;
    badState.now = true;
    await waitFor(
      async () => {
        expect(await ask(proxy, REQUEST)).toBe(ANSWER);
        return ejectedLogs(proxy, bad).length > before;
      },
      { what: 'a fresh ejection', timeoutMs: 30_000 },
    );
    expect(ejectedLogs(proxy, bad)[before]).toMatchObject({ consecutive: 1, ejectionMs: 100 });
  });

  it('sends nothing to an ejected replica while another is up, and uses it as the last resort when none is left', { timeout: 90_000 }, async () => {
    const { proxy, good, bad, badState } = await system(['--ejection-time', '10m', '--max-ejection-time', '10m']);
    await waitFor(
      async () => {
        expect(await ask(proxy, REQUEST)).toBe(ANSWER);
        return recordOf(await figures(proxy), bad)?.ejected === true;
      },
      { what: 'the failing replica ejected', timeoutMs: 30_000 },
    );
    const badBefore = hits(bad);
    const goodBefore = hits(good);
    for (let i = 0; i < 20; i++) expect(await ask(proxy, REQUEST)).toBe(ANSWER);
    expect(hits(bad)).toBe(badBefore);
    expect(hits(good)).toBe(goodBefore + 20);
    expect(recordOf(await figures(proxy), bad)).toMatchObject({ ejected: true, consecutive: 1 });

    // The other replica dies; the ejected one answers again and is all that is left.
    badState.now = false;
    await good.close();
    expect(await ask(proxy, REQUEST)).toBe(ANSWER);
    expect(hits(bad)).toBe(badBefore + 1);
    expect(findLogs(proxy.output(), 'info', 'hop-last-resort')).toContainEqual(expect.objectContaining({ endpoint: `127.0.0.1:${bad.port}` }));
    // Its answer cleared its record.
    expect(recordOf(await figures(proxy), bad)).toBeUndefined();
  });
});
