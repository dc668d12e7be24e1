import { StatusReportSchema, type WatcherStatus } from '@conv/protocol';
import { APP, LineClient, type ServerProcess, exchange, freePort, loggedHttpUrl, startServer, stopAll, waitFor } from '@conv/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { FAST_CHECKS, askOnce, list, startDiscovery, useFakeConverters } from './helpers';

const fake = useFakeConverters();
const clients: LineClient[] = [];
afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await stopAll();
});

const operatorUrl = (server: ServerProcess) => waitFor(() => loggedHttpUrl(server.output()), { what: 'the http.listening log line', timeoutMs: 10_000 });

async function watchers(url: string): Promise<WatcherStatus[]> {
  const response = await fetch(`${url}status.json`);
  expect(response.status).toBe(200);
  return StatusReportSchema.parse(await response.json()).watchers ?? [];
}

describe('the status page lists the proxies that watch this server, with their figures', () => {
  it('shows a real proxy with the figures read from its operator port, and "unreachable" for a watcher whose port does not answer', { timeout: 60_000 }, async () => {
    const discovery = await startDiscovery(['--db', ':memory:', '--http-port', '0', ...FAST_CHECKS]);
    const url = await operatorUrl(discovery);
    const ftIn = await fake(['ft', 'in']);
    expect(await askOnce(discovery.port, `ADD ft in 127.0.0.1 ${ftIn.port}`)).toEqual(['SUCCESS']);
    await waitFor(async () => (await list(discovery.port)).some((line) => / up( |$)/.test(line)), { what: 'the converter up', timeoutMs: 10_000 });

    const proxy = await startServer(APP.proxy, ['0', '127.0.0.1', String(discovery.port), '--http-port', '0']);
    const proxyHttp = new URL(await operatorUrl(proxy));
    for (let i = 0; i < 3; i++) expect((await exchange(proxy.port, 'ft in 1'))[1]).toBe('12');

    const name = `proxy-${proxy.child.pid ?? 0}`;
    const panel = await waitFor(
      async () => {
        const found = (await watchers(url)).find((w) => w.name === name);
        return found?.figures !== undefined && 'requests' in found.figures && found.figures.requests >= 3 ? found : undefined;
      },
      { what: `${name} listed with its figures`, timeoutMs: 20_000 },
    );
    expect(panel).toMatchObject({ name, peer: '127.0.0.1', httpPort: Number(proxyHttp.port) });
    expect(panel.figures).toMatchObject({ service: 'proxy', address: `127.0.0.1:${proxy.port}`, failovers: 0, discoveryUp: true, ejections: 0, outliers: [] });
    expect(panel.figures && 'p99Ms' in panel.figures ? panel.figures.p99Ms : null).toBeGreaterThan(0);

    // A watcher naming a port where nothing answers: listed, its panel says unreachable.
    const deadPort = await freePort();
    const ghost = await LineClient.connect(discovery.port);
    clients.push(ghost);
    ghost.send(`WATCH as=ghost http=${deadPort}`);
    const shown = await waitFor(async () => (await watchers(url)).find((w) => w.name === 'ghost'), { what: 'the ghost watcher listed', timeoutMs: 10_000 });
    expect(shown.figures).toEqual({ unreachable: expect.stringContaining(`127.0.0.1:${deadPort}`) as unknown });

    // The page itself has the panel's place (the browser test draws it).
    const html = await (await fetch(url)).text();
    expect(html).toContain('id="proxies-card"');
    expect(html).toContain('Proxies watching this server');

    // The proxy stops: its watch ends, it is no longer listed.
    proxy.child.kill('SIGTERM');
    await proxy.exited;
    await waitFor(async () => !(await watchers(url)).some((w) => w.name === name), { what: `${name} gone from the list`, timeoutMs: 10_000 });
  });
});
