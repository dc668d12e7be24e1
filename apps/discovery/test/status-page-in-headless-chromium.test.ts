import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { APP, type FakeConverter, exchange, loggedHttpUrl, repoPath, runningInCI, startFakeConverter, startServer, stopAll, waitFor } from '@conv/testkit';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FAST_CHECKS, askOnce, list, startDiscovery } from './helpers';

/** Debian's chromium (`.ci/run` installs it). Missing on a developer machine: skipped, loudly; in CI: a failure. */
const CHROMIUM = '/usr/bin/chromium';
const chromiumMissing = !existsSync(CHROMIUM);
const skipHere = chromiumMissing && !runningInCI();
if (skipHere) {
  console.warn(`\n!!! ${CHROMIUM} is missing: the status page is NOT tested in a browser here. Install it: apt-get install -y --no-install-recommends chromium\n`);
}
const SCREENSHOT = repoPath('test-artifacts', 'status-page.png');
/** The course's eleven pairs, as `conv up` runs them. */
const COURSE_PAIRS: (readonly [string, string])[] = [
  ['ft', 'in'], ['in', 'cm'], ['cm', 'm'], ['kg', 'g'], ['kg', 'lbs'], ['lbs', 'oz'], ['oz', '$'], ['lbs', 'b'], ['b', 'in'], ['b', 'gK'], ['$', 'y'],
];

let browser: Browser | undefined;
const converters: FakeConverter[] = [];

beforeAll(async () => {
  if (skipHere) return;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync',
    ],
  });
}, 60_000);
afterAll(async () => {
  await browser?.close();
});
afterEach(async () => {
  await Promise.all(converters.splice(0).map((c) => c.close()));
  await stopAll();
});

describe('the status page, in headless Chromium', () => {
  it.skipIf(skipHere)(
    'shows pools, endpoints and the unit graph, and follows an endpoint down and back up live',
    async () => {
      if (!browser) throw new Error(`could not launch ${CHROMIUM}`);
      const discovery = await startDiscovery(['--db', ':memory:', '--http-port', '0', ...FAST_CHECKS, '--fail-threshold', '1']);
      const url = await waitFor(() => loggedHttpUrl(discovery.output()), { what: 'the status page address', timeoutMs: 10_000 });
      const ftIn = [await startFakeConverter({ units: ['ft', 'in'], factor: 12 }), await startFakeConverter({ units: ['ft', 'in'], factor: 12 })];
      const inCm = await startFakeConverter({ units: ['in', 'cm'], factor: 2.54 });
      converters.push(...ftIn, inCm);
      // in/cm heartbeats (it holds a lease); the ft/in ones never do.
      for (const c of [...ftIn, inCm]) expect(await askOnce(discovery.port, `ADD ${c.units[0]} ${c.units[1]} 127.0.0.1 ${c.port}${c === inCm ? ' lease=1m' : ''}`)).toEqual(['SUCCESS']);
      await askOnce(discovery.port, 'LOOKUP ft in');

      const page = await browser.newPage({ viewport: { width: 1280, height: 760 } });
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(error.message));
      // Nothing may be fetched from anywhere but the discovery server itself.
      const origins = new Set<string>();
      page.on('request', (request) => void origins.add(new URL(request.url()).origin));
      await page.goto(url);

      const row = (port: number) => page.locator(`tr[data-endpoint="127.0.0.1:${port}"]`);
      const healthOf = (port: number) => row(port).getAttribute('data-health', { timeout: 2_000 }).catch(() => null);
      await waitFor(async () => (await healthOf(inCm.port)) === 'up' && (await healthOf(ftIn[1]?.port ?? 0)) === 'up', {
        what: 'every endpoint to show up',
        timeoutMs: 20_000,
      });
      expect(await page.locator('tbody[data-pool="ft/in"]').textContent()).toContain('2 of 2 up');
      // One LOOKUP served the first ft/in endpoint: the second is next in the round robin.
      expect(await row(ftIn[1]?.port ?? 0).locator('td.next').textContent()).toContain('next');
      expect(await row(ftIn[0]?.port ?? 0).locator('td.served').textContent()).toBe('1');
      expect(await row(inCm.port).locator('td.lease').textContent()).toMatch(/^60 s, lapses in \d+\.\d s$/);
      expect(await row(ftIn[0]?.port ?? 0).locator('td.lease').textContent()).toBe('none, probed');
      expect(await page.locator('[data-count="leased"] b').textContent()).toBe('1');

      const svg = page.locator('svg#graph');
      for (const unit of ['cm', 'ft', 'in']) await expect.poll(() => svg.locator(`g.node[data-unit="${unit}"]`).count(), { timeout: 10_000 }).toBe(1);
      expect(await svg.locator('path[data-pair="ft/in"]').getAttribute('class')).toBe('edge');
      expect(await svg.locator('path[data-pair="cm/in"]').getAttribute('class')).toBe('edge');

      // The only in/cm converter dies: its endpoint goes down and its edge is drawn dead.
      await inCm.close();
      await waitFor(async () => (await healthOf(inCm.port)) === 'down', { what: 'the dead endpoint to show down', timeoutMs: 20_000 });
      await waitFor(async () => (await svg.locator('path[data-pair="cm/in"]').getAttribute('class')) === 'edge dead', {
        what: 'the in/cm edge to be drawn dead',
        timeoutMs: 10_000,
      });
      const dead = svg.locator('path[data-pair="cm/in"]');
      const style = await dead.evaluate((line) => {
        // The page's own window; the test is compiled without DOM types.
        const computed = (globalThis as unknown as { getComputedStyle(e: unknown): { stroke: string; strokeDasharray: string } }).getComputedStyle(line);
        return { stroke: computed.stroke, dashes: computed.strokeDasharray };
      });
      expect(style).toEqual({ stroke: 'rgb(217, 48, 37)', dashes: expect.stringMatching(/^7(px)?,? 5(px)?$/) as unknown });
      mkdirSync(dirname(SCREENSHOT), { recursive: true });
      await page.screenshot({ path: SCREENSHOT.replace(/\.png$/, '-endpoint-down.png'), fullPage: true });

      // It comes back on the same port: up again, edge alive again.
      converters.push(await startFakeConverter({ units: ['in', 'cm'], factor: 2.54, port: inCm.port }));
      await waitFor(async () => (await healthOf(inCm.port)) === 'up', { what: 'the endpoint to show up again', timeoutMs: 20_000 });
      await waitFor(async () => (await svg.locator('path[data-pair="cm/in"]').getAttribute('class')) === 'edge', {
        what: 'the in/cm edge to come alive',
        timeoutMs: 10_000,
      });
      await page.screenshot({ path: SCREENSHOT, fullPage: true });
      expect(existsSync(SCREENSHOT)).toBe(true);

      expect(errors).toEqual([]);
      expect([...origins]).toEqual([new URL(url).origin]);
      await page.close();
    },
    120_000,
  );

  it.skipIf(skipHere)(
    "fits the course's system on a 1400x1000 screen: graph read left to right, every pool beside it, this server named",
    async () => {
      if (!browser) throw new Error(`could not launch ${CHROMIUM}`);
      const discovery = await startDiscovery(['--db', ':memory:', '--http-port', '0', ...FAST_CHECKS]);
      const url = await waitFor(() => loggedHttpUrl(discovery.output()), { what: 'the status page address', timeoutMs: 10_000 });
      const started = await Promise.all(COURSE_PAIRS.flatMap((units) => [startFakeConverter({ units }), startFakeConverter({ units })]));
      converters.push(...started);
      const added = await Promise.all(started.map((c) => askOnce(discovery.port, `ADD ${c.units[0]} ${c.units[1]} 127.0.0.1 ${c.port}`)));
      expect(added.every((reply) => reply[0] === 'SUCCESS')).toBe(true);
      await waitFor(async () => (await list(discovery.port)).filter((line) => / up( |$)/.test(line)).length === 22, { what: '22 endpoints up', timeoutMs: 30_000 });
      for (let i = 0; i < 3; i++) expect((await askOnce(discovery.port, 'LOOKUP_MULTI $ cm')).length).toBe(5);
      // A real proxy watching this server, with a few requests behind it: its panel shows them.
      const proxy = await startServer(APP.proxy, ['0', '127.0.0.1', String(discovery.port), '--http-port', '0']);
      for (let i = 0; i < 4; i++) expect((await exchange(proxy.port, 'ft in 1'))[1]).toBe('12');
      const proxyName = `proxy-${proxy.child.pid ?? 0}`;

      const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(error.message));
      await page.goto(url);
      await waitFor(async () => (await page.locator('tr[data-health="up"]').count()) === 22, { what: '22 endpoints shown up', timeoutMs: 30_000 });
      const panel = page.locator(`.proxy[data-proxy="${proxyName}"]`);
      const figure = (key: string) => panel.locator(`[data-figure="${key}"] b`).textContent({ timeout: 2_000 }).catch(() => null);
      await waitFor(async () => Number(await figure('requests')) >= 4, { what: "the proxy's panel with its requests", timeoutMs: 20_000 });
      expect(await figure('failovers')).toBe('0');
      expect(await figure('discovery')).toBe('yes');
      expect(await figure('p99')).toMatch(/^\u2264 [0-9.]+ ms$/);

      // This server says which discovery server (or replica) it is, in the page and the tab.
      expect(await page.locator('#where').textContent()).toBe(`discovery 127.0.0.1:${discovery.port}`);
      expect(await page.title()).toContain(`127.0.0.1:${discovery.port}`);
      expect(await page.locator('#server-pid').textContent()).toBe(String(discovery.child.pid));

      // Measured in one synchronous pass: the page redraws every second.
      const measured = await page.evaluate((path) => {
        type Box = { left: number; right: number; top: number; bottom: number };
        // The page's own window; the test is compiled without DOM types.
        const doc = (globalThis as unknown as { document: { querySelector(s: string): { getBoundingClientRect(): Box } | null; querySelectorAll(s: string): { length: number } } }).document;
        const box = (selector: string) => doc.querySelector(selector)?.getBoundingClientRect() ?? null;
        return {
          graph: box('#graph-card'),
          pools: box('#pools-card'),
          proxies: box('#proxies-card'),
          poolCount: doc.querySelectorAll('tbody[data-pool]').length,
          lastRow: box('#pools tbody:last-of-type tr:last-child'),
          nodes: path.map((unit) => box(`svg#graph g.node[data-unit="${unit}"]`)?.left ?? null),
        };
      }, ['$', 'oz', 'lbs', 'b', 'in', 'cm']);
      const { graph, pools, lastRow, nodes } = measured;
      if (!graph || !pools || !lastRow) throw new Error(`the page is not drawn: ${JSON.stringify(measured)}`);
      // The pools beside the graph, and all of them above the fold.
      expect(pools.left).toBeGreaterThanOrEqual(graph.right);
      expect(pools.top).toBeLessThan(graph.bottom);
      expect(measured.poolCount).toBe(11);
      expect(lastRow.bottom).toBeLessThanOrEqual(1000);
      expect(pools.bottom).toBeLessThanOrEqual(1000);
      // The proxies' panels under the graph, above the fold too.
      expect(measured.proxies?.bottom ?? Infinity).toBeLessThanOrEqual(1000);
      // $ -> oz -> lbs -> b -> in -> cm, the course's longest question, runs left to right.
      expect(nodes.every((x) => x !== null)).toBe(true);
      expect(nodes).toEqual([...nodes].sort((p, q) => (p ?? 0) - (q ?? 0)));
      expect(new Set(nodes).size).toBe(nodes.length);

      mkdirSync(dirname(SCREENSHOT), { recursive: true });
      await page.screenshot({ path: SCREENSHOT.replace(/\.png$/, '-course-1400x1000.png') });
      expect(errors).toEqual([]);
      await page.close();
    },
    120_000,
  );
});
