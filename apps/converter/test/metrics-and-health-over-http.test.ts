import { APP, LineClient, type ServerProcess, exchange, loggedHttpUrl, parsePrometheusText, sampleValue, startServer, stopAll, waitFor } from '@conv/testkit';
import { afterEach, describe, expect, it } from 'vitest';

afterEach(stopAll);

const start = (args: readonly string[]) => startServer(APP.converter, ['0', '--pair', 'ft:in', '--no-register', ...args]);
const operatorUrl = (server: ServerProcess) => waitFor(() => loggedHttpUrl(server.output()), { what: 'the http-listening log line', timeoutMs: 10_000 });

async function scrape(url: string) {
  const response = await fetch(`${url}metrics`);
  expect(response.status).toBe(200);
  return parsePrometheusText(await response.text());
}

describe('converter --http-port', () => {
  it('is off by default', async () => {
    const server = await start([]);
    await exchange(server.port, 'ft in 1\n');
    expect(loggedHttpUrl(server.output())).toBeUndefined();
  });

  it('answers /healthz with 200 and names its pair', async () => {
    const server = await start(['--http-port', '0']);
    const response = await fetch(`${await operatorUrl(server)}healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: 'ok', service: 'converter', pair: 'ft:in' });
  });

  it('counts conversions by outcome and times them, in Prometheus text', async () => {
    const server = await start(['--http-port', '0']);
    const url = await operatorUrl(server);
    const before = await scrape(url);
    expect(before.types.get('converter_requests_total')).toBe('counter');
    expect(before.types.get('converter_request_duration_seconds')).toBe('histogram');
    const ok = (e: typeof before) => sampleValue(e, 'converter_requests_total', { outcome: 'ok' }) ?? 0;
    const wrongPair = (e: typeof before) => sampleValue(e, 'converter_requests_total', { outcome: 'WRONG_PAIR' }) ?? 0;
    const timed = (e: typeof before) => sampleValue(e, 'converter_request_duration_seconds_count') ?? 0;

    expect((await exchange(server.port, 'ft in 2\n')).at(-1)).toBe('24');
    expect((await exchange(server.port, 'in ft 24\n')).at(-1)).toBe('2');
    expect((await exchange(server.port, 'kg g 1\n')).at(-1)).toMatch(/\(WRONG_PAIR\)$/);

    const after = await scrape(url);
    expect(ok(after) - ok(before)).toBe(2);
    expect(wrongPair(after) - wrongPair(before)).toBe(1);
    expect(timed(after) - timed(before)).toBe(3);
    expect(sampleValue(after, 'nodejs_heap_size_used_bytes')).toBeGreaterThan(0);

    // The connection gauge follows a held connection, and comes back down when it closes.
    const held = await LineClient.connect(server.port);
    await held.nextLine();
    // Read without scrape's assertion: a probe that is retried must not assert.
    const open = async () => sampleValue(parsePrometheusText(await (await fetch(`${url}metrics`)).text()), 'converter_open_connections');
    await waitFor(async () => (await open()) === 1, { what: 'one open connection counted' });
    held.close();
    await waitFor(async () => (await open()) === 0, { what: 'no open connection counted' });
  });
});
