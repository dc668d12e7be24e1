import { APP, type FakeConverter, type ServerProcess, exchange, findLogs, startFakeConverter, startServer, stopAll, waitFor } from '@conv/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { ask, list, waitUp } from './system';

const SECRET = 'proxy-and-converters-share-this';
const fakes: FakeConverter[] = [];
afterEach(async () => {
  await Promise.all(fakes.splice(0).map((fake) => fake.close()));
  await stopAll();
});

describe('the proxy reports failing converters with REPORT, never REMOVE', () => {
  it('a dead replica is reported (no token needed), probed down by discovery, and answers keep coming', async () => {
    // A long down-grace: a report that removed would make the endpoint vanish; a probe leaves it listed down.
    const discovery = await startServer(APP.discovery, ['0', '--db', ':memory:', '--check-interval', '1m', '--down-grace', '1h', '--token', SECRET]);
    const converter = () => startServer(APP.converter, ['0', '--pair', 'ft:in', '--lease', '0', '--discovery', `127.0.0.1:${discovery.port}`], { env: { CONV_TOKEN: SECRET } });
    const replicas: ServerProcess[] = [await converter(), await converter()];
    await waitUp(discovery, 2);
    const proxy = await startServer(APP.proxy, ['0', '127.0.0.1', String(discovery.port)], { env: { CONV_TOKEN: '' } });
    const [dead, alive] = replicas as [ServerProcess, ServerProcess];
    await waitFor(async () => (await ask(proxy, 'ft in 1')) === '12', { what: 'the proxy to reach discovery' });
    // Both replicas in use before the kill, so the proxy is sure to meet the dead one.
    for (let i = 0; i < 4; i++) expect(await ask(proxy, 'ft in 1')).toBe('12');
    dead.kill('SIGKILL');
    await dead.exited;
    for (let i = 0; i < 6; i++) expect(await ask(proxy, 'ft in 2')).toBe('24');
    // Periodic checks come once a minute: only the probes the report asked for find it dead.
    await waitFor(async () => (await list(discovery)).includes(`ft in 127.0.0.1 ${dead.port} down`), { what: 'the dead replica probed down' });
    expect((await list(discovery)).some((line) => line.startsWith(`ft in 127.0.0.1 ${alive.port} up`))).toBe(true);
    expect(findLogs(discovery.output(), 'info', 'reported')).toContainEqual(expect.objectContaining({ endpoint: `127.0.0.1:${dead.port}` }));
    expect(discovery.output()).not.toMatch(/unauthorized/);
    expect(findLogs(discovery.output(), 'info', 'removed')).toEqual([]);
  });

  it('one slow reply past the hop timeout no longer removes the only replica', async () => {
    const discovery = await startServer(APP.discovery, ['0', '--db', ':memory:', '--check-interval', '100ms']);
    let slow = true;
    // Discovery's probes ask `ft in 1`; the proxy's request for 7 ft is the one answered late.
    const only = await startFakeConverter({ units: ['ft', 'in'], answer: (line) => (slow && line === 'ft in 7' ? ((slow = false), { line: '84', afterMs: 1500 }) : undefined) });
    fakes.push(only);
    expect(await exchange(discovery.port, `ADD ft in 127.0.0.1 ${only.port}`)).toEqual(['SUCCESS']);
    await waitUp(discovery, 1);
    const proxy = await startServer(APP.proxy, ['0', '127.0.0.1', String(discovery.port), '--hop-timeout', '1s']);
    expect(await ask(proxy, 'ft in 2')).toBe('24');
    await ask(proxy, 'ft in 7');
    await waitFor(() => findLogs(proxy.output(), 'info', 'endpoint-reported').length > 0, { what: 'the proxy to report the slow replica' });
    expect(findLogs(proxy.output(), 'info', 'endpoint-reported')[0]).toMatchObject({ discovery: 'SUCCESS' });
    // Still registered, still up: the probe it asked for found it answering.
    expect(await list(discovery)).toEqual([`ft in 127.0.0.1 ${only.port} up`]);
    await waitFor(async () => (await ask(proxy, 'ft in 3')) === '36', { what: 'the proxy to use the replica again' });
  });
});
