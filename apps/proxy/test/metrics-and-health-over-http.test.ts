import { type ServerProcess, loggedHttpUrl, parsePrometheusText, sampleValue, stopAll, waitFor } from '@conv/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { ask, startConverter, startDiscovery, startProxy, waitUp } from './system';

afterEach(stopAll);

const operatorUrl = (server: ServerProcess) => waitFor(() => loggedHttpUrl(server.output()), { what: 'the http.listening log line', timeoutMs: 10_000 });

async function scrape(url: string) {
  const response = await fetch(`${url}metrics`);
  expect(response.status).toBe(200);
  return parsePrometheusText(await response.text());
}

describe('proxy --http-port', () => {
  it('is off by default, and /healthz answers 200 when it is on', async () => {
    const discovery = await startDiscovery();
    const quiet = await startProxy(discovery);
    expect(await ask(quiet, 'ft ft 1')).toBe('1');
    expect(loggedHttpUrl(quiet.output())).toBeUndefined();

    const proxy = await startProxy(discovery, ['--http-port', '0']);
    const response = await fetch(`${await operatorUrl(proxy)}healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: 'ok', service: 'proxy', address: `127.0.0.1:${proxy.port}` });
  });

  it('counts requests by outcome, times them, and counts failovers, in Prometheus text', async () => {
    const discovery = await startDiscovery();
    const converters = [await startConverter('ft:in', discovery), await startConverter('ft:in', discovery)];
    await waitUp(discovery, 2);
    const proxy = await startProxy(discovery, ['--http-port', '0']);
    const url = await operatorUrl(proxy);
    const before = await scrape(url);
    expect(before.types.get('proxy_requests_total')).toBe('counter');
    expect(before.types.get('proxy_request_duration_seconds')).toBe('histogram');
    expect(before.types.get('proxy_failovers_total')).toBe('counter');
    const ok = (e: typeof before) => sampleValue(e, 'proxy_requests_total', { outcome: 'ok' }) ?? 0;
    const timed = (e: typeof before) => sampleValue(e, 'proxy_request_duration_seconds_count') ?? 0;

    for (let i = 1; i <= 4; i++) expect(await ask(proxy, `ft in ${i}`)).toBe(String(12 * i));
    expect(await ask(proxy, 'ft zz 1')).toMatch(/^FAILURE .*\((NO_PATH|UNKNOWN_PAIR)\)$/);
    const middle = await scrape(url);
    expect(ok(middle) - ok(before)).toBe(4);
    expect(timed(middle) - timed(before)).toBe(5);
    expect((sampleValue(middle, 'proxy_requests_total', { outcome: 'NO_PATH' }) ?? 0) + (sampleValue(middle, 'proxy_requests_total', { outcome: 'UNKNOWN_PAIR' }) ?? 0)).toBe(1);
    expect(sampleValue(middle, 'proxy_discovery_up')).toBe(1);

    // A replica dies: the proxy fails over to the other one, and the failover counter moves.
    const [victim] = converters;
    victim?.kill('SIGKILL');
    await victim?.exited;
    // Every answer meanwhile is kept and judged after the wait: a wrong one must fail the test, not be retried.
    const answers: string[] = [];
    await waitFor(
      async () => {
        answers.push(await ask(proxy, 'ft in 1'));
        return (sampleValue(await scrape(url), 'proxy_failovers_total') ?? 0) >= 1;
      },
      { what: 'a failover to be counted', timeoutMs: 15_000 },
    );
    expect(answers.filter((answer) => answer !== '12'), 'every answer while waiting').toEqual([]);
  });
});
