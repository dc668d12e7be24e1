import { type LogEvent, RawClient, loggedHttpUrl, parsePrometheusText, sampleValue, waitFor } from '@conv/testkit';
import { Registry as MetricsRegistry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { FastCounter, FastHistogram, type HttpServer, ServerError, createLogger, startHttpServer, startOperatorPort } from '../src/index';

const open: HttpServer[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((server) => server.close()));
});

function capture() {
  const lines: string[] = [];
  const log = createLogger({ name: 'test', level: 'info', write: (line) => void lines.push(line) });
  return { log, output: () => lines.join(''), events: () => lines.map((line) => JSON.parse(line) as LogEvent) };
}

function metricsWithTraffic(): MetricsRegistry {
  const registry = new MetricsRegistry();
  const requests = new FastCounter('demo_requests_total', 'Requests answered, by outcome.', registry);
  const latency = new FastHistogram('demo_request_duration_seconds', 'Time to answer one request.', [0.001, 0.01], registry);
  requests.series({ outcome: 'ok' }).inc();
  requests.series({ outcome: 'ok' }).inc(2);
  requests.series({ outcome: 'BAD_UNIT' }).inc();
  for (const seconds of [0.0005, 0.005, 0.5]) latency.series({ verb: 'ADD' }).observe(seconds);
  return registry;
}

describe('the operator port', () => {
  it('serves /metrics in the Prometheus text format and /healthz as one JSON line, and logs where it listens', async () => {
    const { log, output } = capture();
    const http = await startOperatorPort({ host: '127.0.0.1', port: 0, log, service: 'demo', facts: { pair: 'ft:in' }, metrics: metricsWithTraffic() });
    open.push(http);
    expect(loggedHttpUrl(output())).toBe(http.url);
    expect(http.url).toBe(`http://127.0.0.1:${http.port}/`);

    const metrics = await fetch(`${http.url}metrics`);
    expect(metrics.headers.get('content-type')).toMatch(/^text\/plain/);
    const exposition = parsePrometheusText(await metrics.text());
    expect(exposition.types.get('demo_requests_total')).toBe('counter');
    expect(sampleValue(exposition, 'demo_requests_total', { outcome: 'ok' })).toBe(3);
    expect(sampleValue(exposition, 'demo_requests_total', { outcome: 'BAD_UNIT' })).toBe(1);
    expect(exposition.types.get('demo_request_duration_seconds')).toBe('histogram');
    expect(sampleValue(exposition, 'demo_request_duration_seconds_bucket', { verb: 'ADD', le: '0.001' })).toBe(1);
    expect(sampleValue(exposition, 'demo_request_duration_seconds_bucket', { verb: 'ADD', le: '0.01' })).toBe(2);
    expect(sampleValue(exposition, 'demo_request_duration_seconds_bucket', { verb: 'ADD', le: '+Inf' })).toBe(3);
    expect(sampleValue(exposition, 'demo_request_duration_seconds_count', { verb: 'ADD' })).toBe(3);
    expect(sampleValue(exposition, 'demo_request_duration_seconds_sum', { verb: 'ADD' })).toBeCloseTo(0.5055, 10);

    const health = await fetch(`${http.url}healthz`);
    expect(health.headers.get('content-type')).toBe('application/json; charset=utf-8');
    const body = await health.text();
    expect(body.endsWith('}\n')).toBe(true);
    expect(Object.keys(JSON.parse(body) as object)).toEqual(['status', 'service', 'pair', 'uptimeSeconds']);
    expect(JSON.parse(body)).toMatchObject({ status: 'ok', service: 'demo', pair: 'ft:in' });
  });

  it("lists the app's own pages first, answers 404 naming every page, 405 to anything but GET and HEAD", async () => {
    const { log } = capture();
    const http = await startOperatorPort({
      host: '127.0.0.1', port: 0, log, service: 'demo', metrics: new MetricsRegistry(),
      routes: { '/': () => ({ type: 'text/html; charset=utf-8', body: '<p>status</p>' }) },
    });
    open.push(http);
    expect(await (await fetch(http.url)).text()).toBe('<p>status</p>');
    const missing = await fetch(`${http.url}nope?x=1`);
    expect(missing.status).toBe(404);
    expect(await missing.text()).toBe('no such page; try /, /metrics, /healthz\n');
    const posted = await fetch(`${http.url}metrics`, { method: 'POST', body: 'x' });
    expect(posted.status).toBe(405);
    const head = await fetch(http.url, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe(String(Buffer.byteLength('<p>status</p>')));
    expect(head.headers.get('cache-control')).toBe('no-store');
  });

  it('turns a route that throws into a 500 and one error line', async () => {
    const { log, events } = capture();
    const http = await startHttpServer({
      host: '127.0.0.1', port: 0, log,
      routes: { '/boom': () => { throw new Error('no data yet'); } },
    });
    open.push(http);
    const reply = await fetch(`${http.url}boom`);
    expect(reply.status).toBe(500);
    expect(await reply.text()).toBe('internal error\n');
    expect(events()).toEqual([expect.objectContaining({ level: 'error', msg: 'http-route-failed', path: '/boom', error: 'no data yet' })]);
  });

  it('refuses a port in use with its own LISTEN_FAILED, which says where', async () => {
    const { log } = capture();
    const first = await startHttpServer({ host: '127.0.0.1', port: 0, log, routes: {} });
    open.push(first);
    const refused = await startHttpServer({ host: '127.0.0.1', port: first.port, log, routes: {} }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ServerError);
    expect(refused).toMatchObject({ code: 'LISTEN_FAILED', message: `cannot listen (--http-port): 127.0.0.1:${first.port} is already in use` });
  });

  it('stops listening once closed, keep-alive clients included', async () => {
    const { log } = capture();
    const http = await startHttpServer({ host: '127.0.0.1', port: 0, log, routes: { '/': () => ({ type: 'text/plain', body: 'ok' }) } });
    expect(await (await fetch(http.url, { headers: { connection: 'keep-alive' } })).text()).toBe('ok');
    await http.close();
    await expect(fetch(http.url)).rejects.toThrow();
  });
});

describe("the operator port's limits", () => {
  it('cuts a client that never finishes its request head, and answers 431 to a head too large', async () => {
    const { log } = capture();
    const http = await startHttpServer({ host: '127.0.0.1', port: 0, log, routes: { '/': () => ({ type: 'text/plain', body: 'ok' }) }, limits: { headersTimeoutMs: 300, maxHeaderBytes: 1024 } });
    open.push(http);
    const slow = await RawClient.connect(http.port);
    slow.write('GET / HTTP/1.1\r\nHost: x\r\n');
    // Node answers a late head with 408 and closes.
    const answered = await slow.waitForEnd(10_000);
    expect(answered[0]).toMatch(/^HTTP\/1\.1 408 /);
    const big = await fetch(http.url, { headers: { 'x-padding': 'x'.repeat(2048) } });
    expect(big.status).toBe(431);
  });

  it('closes connections over its limit at once, and serves again when they are gone', async () => {
    const { log } = capture();
    const http = await startHttpServer({ host: '127.0.0.1', port: 0, log, routes: { '/': () => ({ type: 'text/plain', body: 'ok' }) }, limits: { maxConnections: 2 } });
    open.push(http);
    const held = [await RawClient.connect(http.port), await RawClient.connect(http.port)];
    const third = await RawClient.connect(http.port);
    expect(await third.waitForEnd(5_000)).toEqual([]);
    for (const client of held) client.destroy();
    await waitFor(async () => (await fetch(http.url).then((reply) => reply.text()).catch(() => '')) === 'ok', { what: 'a fresh client served' });
  });
});
