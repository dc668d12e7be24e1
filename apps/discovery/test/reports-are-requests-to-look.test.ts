import { findLogs, waitFor } from '@conv/testkit';
import { describe, expect, it } from 'vitest';
import { ask, askOnce, list, openSession, startDiscovery, healthOf, useFakeConverters } from './helpers';

const converter = useFakeConverters();

describe('REPORT <host> <port> [reason...]', () => {
  it('is listed in FEATURES, answers SUCCESS, and changes nothing about a healthy server', async () => {
    const discovery = await startDiscovery(['--db', ':memory:', '--check-interval', '1m']);
    const healthy = await converter(['ft', 'in']);
    expect(await askOnce(discovery.port, 'FEATURES')).toEqual([expect.stringMatching(/^FEATURES .*\breport\b/)]);
    await askOnce(discovery.port, `ADD ft in 127.0.0.1 ${healthy.port}`);
    await waitFor(async () => (await healthOf(discovery.port, `127.0.0.1 ${healthy.port}`)) === 'up', { what: 'up' });
    const probes = healthy.requests.length;
    expect(await askOnce(discovery.port, `REPORT 127.0.0.1 ${healthy.port} timed out after 1000 ms`, { localAddress: '127.0.0.3' })).toEqual(['SUCCESS']);
    // The report asked for a probe (no periodic one comes for a minute), and the probe found it well.
    await waitFor(() => healthy.requests.length > probes, { what: 'the probe the report asked for' });
    expect(await healthOf(discovery.port, `127.0.0.1 ${healthy.port}`)).toBe('up');
    expect(await askOnce(discovery.port, `REPORT 127.0.0.1 1`)).toEqual([expect.stringMatching(/^FAILURE not registered\. .*\(NOT_REGISTERED\)$/)]);
    expect(await askOnce(discovery.port, 'REPORT 127.0.0.1')).toEqual([expect.stringMatching(/\(BAD_ARITY\)$/)]);
  });

  it('takes a dead server out once the probes it asks for fail, not before', async () => {
    const discovery = await startDiscovery(['--db', ':memory:', '--check-interval', '1m']);
    const dead = await converter(['ft', 'in']);
    await askOnce(discovery.port, `ADD ft in 127.0.0.1 ${dead.port}`);
    await waitFor(async () => (await healthOf(discovery.port, `127.0.0.1 ${dead.port}`)) === 'up', { what: 'up' });
    await dead.close();
    expect(await askOnce(discovery.port, `REPORT 127.0.0.1 ${dead.port} connection refused`)).toEqual(['SUCCESS']);
    await waitFor(async () => (await healthOf(discovery.port, `127.0.0.1 ${dead.port}`)) === 'down', { what: 'down after its probes failed' });
    expect(findLogs(discovery.output(), 'warn', 'health')).toContainEqual(expect.objectContaining({ endpoint: `127.0.0.1:${dead.port}`, from: 'up', to: 'down' }));
  });

  it('a report that comes while a probe is under way is answered by a probe after it: the server that died meanwhile goes down', async () => {
    // No periodic checks: only the admission probe and the probes the report asks for.
    const discovery = await startDiscovery(['--db', ':memory:', '--check-interval', '0', '--check-timeout', '10s']);
    // It answers the admission probe right but late (the report comes meanwhile), then dies:
    // every later connection is closed without a word.
    const dying = await converter(['ft', 'in'], {
      answer: (_line, n) => (n === 0 ? { line: '12', afterMs: 5000 } : undefined),
      script: ({ connection }) => (connection > 1 ? 'close' : undefined),
    });
    await askOnce(discovery.port, `ADD ft in 127.0.0.1 ${dying.port}`);
    await waitFor(() => dying.requests.length === 1, { what: 'the admission probe' });
    expect(await askOnce(discovery.port, `REPORT 127.0.0.1 ${dying.port} connection reset`, { localAddress: '127.0.0.3' })).toEqual(['SUCCESS']);
    // The admission probe was still waiting for its answer when the report came.
    expect(dying.requests).toHaveLength(1);
    await waitFor(async () => (await healthOf(discovery.port, `127.0.0.1 ${dying.port}`)) === 'down', { what: 'down after the probes the report asked for', timeoutMs: 30_000 });
    expect(findLogs(discovery.output(), 'info', 'health')).toContainEqual(expect.objectContaining({ endpoint: `127.0.0.1:${dying.port}`, from: 'pending', to: 'up' }));
  }, 60_000);
});

describe("a stranger's REMOVE flood", () => {
  it('one every 5 ms for 8 s: at least 99% of lookups still hand out the healthy server, and the probes it causes stay bounded', async () => {
    // No periodic checks: every probe after admission is one a report asked for.
    const discovery = await startDiscovery(['--db', ':memory:', '--check-interval', '0']);
    const healthy = await converter(['ft', 'in']);
    const owner = await openSession(discovery.port);
    expect(await ask(owner, `ADD ft in 127.0.0.1 ${healthy.port}`)).toEqual(['SUCCESS']);
    await waitFor(async () => (await ask(owner, 'LOOKUP ft in'))[0] === `127.0.0.1 ${healthy.port}`, { what: 'up' });
    const probesBefore = healthy.requests.length;

    const stranger = await openSession(discovery.port, { localAddress: '127.0.0.2' });
    let reports = 0;
    let flooding = true;
    const flood = (async () => {
      const start = performance.now();
      while (performance.now() - start < 8000) {
        expect(await ask(stranger, `REMOVE 127.0.0.1 ${healthy.port}`)).toEqual(['SUCCESS']);
        reports++;
        const next = start + reports * 5;
        const wait = next - performance.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      }
      flooding = false;
    })();
    let lookups = 0;
    let healthyAnswers = 0;
    while (flooding) {
      const [line] = await ask(owner, 'LOOKUP ft in');
      lookups++;
      if (line === `127.0.0.1 ${healthy.port}`) healthyAnswers++;
      await new Promise((resolve) => setImmediate(resolve));
    }
    await flood;
    stranger.close();
    owner.close();
    const probes = healthy.requests.length - probesBefore;
    console.log(`REMOVE flood: ${reports} reports in 8 s; ${healthyAnswers}/${lookups} lookups handed out the healthy server; ${probes} probes`);
    expect(reports).toBeGreaterThan(1000);
    expect(lookups).toBeGreaterThan(100);
    expect(healthyAnswers / lookups).toBeGreaterThanOrEqual(0.99);
    // One acted-on report per endpoint per second: about 8 probes, never one per report.
    expect(probes).toBeLessThanOrEqual(10);
    expect(await list(discovery.port)).toEqual([`ft in 127.0.0.1 ${healthy.port} up`]);
  }, 60_000);
});
