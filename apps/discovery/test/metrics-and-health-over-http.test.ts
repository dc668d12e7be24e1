import { type ServerProcess, loggedHttpUrl, parsePrometheusText, sampleValue, startFakeConverter, stopAll, waitFor } from '@conv/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { FAST_CHECKS, askOnce, startDiscovery } from './helpers';

afterEach(stopAll);

async function operatorUrl(discovery: ServerProcess): Promise<string> {
  return waitFor(() => loggedHttpUrl(discovery.output()), { what: 'the http-listening log line', timeoutMs: 10_000 });
}

async function scrape(url: string) {
  const response = await fetch(`${url}metrics`);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return parsePrometheusText(await response.text());
}

describe('discovery --http-port', () => {
  it('is off by default: no operator port is logged', async () => {
    const discovery = await startDiscovery(['--db', ':memory:']);
    await askOnce(discovery.port, 'PING');
    expect(loggedHttpUrl(discovery.output())).toBeUndefined();
    expect(discovery.banner).not.toMatch(/http/);
  });

  it('answers /healthz with 200 and a small JSON body, on the same host', async () => {
    const discovery = await startDiscovery(['--db', ':memory:', '--http-port', '0']);
    const url = await operatorUrl(discovery);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const response = await fetch(`${url}healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: 'ok', service: 'discovery', address: `127.0.0.1:${discovery.port}` });
    expect((await fetch(`${url}nothing-here`)).status).toBe(404);
    expect((await fetch(`${url}metrics`, { method: 'POST' })).status).toBe(405);
  });

  it('exposes Prometheus text whose request counters move with real TCP requests', async () => {
    const discovery = await startDiscovery(['--db', ':memory:', '--http-port', '0', '--trust-registrations', ...FAST_CHECKS]);
    const url = await operatorUrl(discovery);
    const before = await scrape(url);
    expect(before.types.get('discovery_requests_total')).toBe('counter');
    expect(before.types.get('discovery_request_duration_seconds')).toBe('histogram');
    expect(before.types.get('process_cpu_seconds_total')).toBe('counter');
    const lookups = (e: typeof before) => sampleValue(e, 'discovery_requests_total', { verb: 'LOOKUP', outcome: 'ok' }) ?? 0;
    const unknownPairs = (e: typeof before) => sampleValue(e, 'discovery_requests_total', { verb: 'LOOKUP', outcome: 'UNKNOWN_PAIR' }) ?? 0;
    const timed = (e: typeof before) => sampleValue(e, 'discovery_request_duration_seconds_count', { verb: 'LOOKUP' }) ?? 0;

    const converter = await startFakeConverter({ units: ['ft', 'in'], factor: 12 });
    expect(await askOnce(discovery.port, `ADD ft in 127.0.0.1 ${converter.port}`)).toEqual(['SUCCESS']);
    for (let i = 0; i < 3; i++) expect(await askOnce(discovery.port, 'LOOKUP ft in')).toEqual([`127.0.0.1 ${converter.port}`]);
    expect((await askOnce(discovery.port, 'LOOKUP kg g'))[0]).toMatch(/\(UNKNOWN_PAIR\)$/);
    expect((await askOnce(discovery.port, 'FROB'))[0]).toMatch(/\(UNKNOWN_VERB\)$/);

    const after = await scrape(url);
    expect(lookups(after) - lookups(before)).toBe(3);
    expect(unknownPairs(after) - unknownPairs(before)).toBe(1);
    expect(timed(after) - timed(before)).toBe(4);
    expect(sampleValue(after, 'discovery_requests_total', { verb: 'ADD', outcome: 'ok' })).toBe(1);
    expect(sampleValue(after, 'discovery_requests_total', { verb: 'unknown', outcome: 'UNKNOWN_VERB' })).toBe(1);
    expect(sampleValue(after, 'discovery_pools')).toBe(1);
    expect(sampleValue(after, 'discovery_endpoints', { health: 'up' })).toBe(1);
    expect(sampleValue(after, 'discovery_pool_endpoints', { pair: 'ft/in', health: 'up' })).toBe(1);
    // The scrape itself holds no protocol connection; the last askOnce has closed its own.
    await waitFor(async () => sampleValue(await scrape(url), 'discovery_open_connections') === 0, { what: 'connections to close', timeoutMs: 10_000 });

    await converter.close();
    await waitFor(async () => sampleValue(await scrape(url), 'discovery_endpoints', { health: 'down' }) === 1, {
      what: 'the dead converter to show as down in the metrics',
      timeoutMs: 15_000,
    });
  });

  it('fails to start, in one line, when the HTTP port is taken', async () => {
    const first = await startDiscovery(['--db', ':memory:', '--http-port', '0']);
    const taken = new URL(await operatorUrl(first)).port;
    await expect(startDiscovery(['--db', ':memory:', '--http-port', taken])).rejects.toThrow(/cannot listen \(--http-port\): 127\.0\.0\.1:\d+ is already in use/);
  });
});
