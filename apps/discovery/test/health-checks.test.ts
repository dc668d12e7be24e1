import { waitFor, logMatches, waitForLog } from '@conv/testkit';
import { describe, expect, it } from 'vitest';
import { ask, askOnce, FAST_CHECKS, list, openSession, startDiscovery, healthOf, useFakeConverters } from './helpers';

const converter = useFakeConverters();

describe('active health checks', () => {
  it.each([
    ['on the main thread', []],
    ['in their own thread', ['--probe-thread']],
  ])('marks a converter that dies down, stops handing it out, and brings it back when it returns (probes %s)', async (_, flags: string[]) => {
    const discovery = await startDiscovery(['--db', ':memory:', ...FAST_CHECKS, ...flags]);
    const steady = await converter(['ft', 'in']);
    let flaky = await converter(['ft', 'in'], { host: '127.0.0.2' });
    await askOnce(discovery.port, `ADD ft in 127.0.0.1 ${steady.port}`);
    await askOnce(discovery.port, `ADD ft in 127.0.0.2 ${flaky.port}`);
    await waitFor(async () => (await healthOf(discovery.port, `127.0.0.2 ${flaky.port}`)) === 'up', { what: 'flaky up' });

    const port = flaky.port;
    await flaky.close();
    await waitFor(async () => (await healthOf(discovery.port, `127.0.0.2 ${port}`)) === 'down', { what: 'flaky down' });
    const client = await openSession(discovery.port);
    for (let i = 0; i < 4; i++) expect(await ask(client, 'LOOKUP ft in')).toEqual([`127.0.0.1 ${steady.port}`]);

    flaky = await converter(['ft', 'in'], { host: '127.0.0.2', port });
    await waitFor(async () => (await healthOf(discovery.port, `127.0.0.2 ${port}`)) === 'up', { what: 'flaky back up' });
    const answers = [...(await ask(client, 'LOOKUP ft in')), ...(await ask(client, 'LOOKUP ft in'))];
    expect(answers.sort()).toEqual([`127.0.0.1 ${steady.port}`, `127.0.0.2 ${port}`].sort());
    client.close();
  });

  it('probes with a real conversion of the endpoint\'s own pair, so a port serving another pair fails', async () => {
    const discovery = await startDiscovery(['--db', ':memory:', ...FAST_CHECKS]);
    const impostor = await converter(['kg', 'lbs']);
    const honest = await converter(['ft', 'in'], { host: '127.0.0.2' });
    await askOnce(discovery.port, `ADD ft in 127.0.0.1 ${impostor.port}`);
    await askOnce(discovery.port, `ADD ft in 127.0.0.2 ${honest.port}`);
    await waitFor(async () => (await healthOf(discovery.port, `127.0.0.2 ${honest.port}`)) === 'up', { what: 'honest up' });
    await waitFor(() => impostor.requests.length >= 2, { what: 'two probes of the impostor' });
    expect(impostor.requests[0]).toMatch(/^(ft in|in ft) 1$/);
    expect(await healthOf(discovery.port, `127.0.0.1 ${impostor.port}`)).toBe('pending');
    expect(await askOnce(discovery.port, 'LOOKUP ft in')).toEqual([`127.0.0.2 ${honest.port}`]);
  });

  it('removes an endpoint that stays down past the grace', async () => {
    const discovery = await startDiscovery(['--db', ':memory:', ...FAST_CHECKS, '--down-grace', '300ms', '--pending-grace', '300ms']);
    const doomed = await converter(['ft', 'in']);
    await askOnce(discovery.port, `ADD ft in 127.0.0.1 ${doomed.port}`);
    await waitFor(async () => (await healthOf(discovery.port, `127.0.0.1 ${doomed.port}`)) === 'up', { what: 'up' });
    await doomed.close();
    await waitFor(async () => (await list(discovery.port)).length === 0, { what: 'removal after the grace' });
    expect(
      await waitForLog(() => discovery.output(), 'info', 'health', { where: (event) => logMatches(event, { endpoint: `127.0.0.1:${doomed.port}`, pair: 'ft/in', from: 'down', to: 'removed' }) }),
    ).toBeDefined();
  });
});

describe('REMOVE reports', () => {
  it('from a stranger about a healthy server leave it up (after a probe)', async () => {
    const discovery = await startDiscovery(['--db', ':memory:', ...FAST_CHECKS]);
    const healthy = await converter(['ft', 'in']);
    await askOnce(discovery.port, `ADD ft in 127.0.0.1 ${healthy.port}`);
    await waitFor(async () => (await healthOf(discovery.port, `127.0.0.1 ${healthy.port}`)) === 'up', { what: 'up' });
    const probesBefore = healthy.requests.length;
    expect(await askOnce(discovery.port, `REMOVE 127.0.0.1 ${healthy.port}`, { localAddress: '127.0.0.2' })).toEqual(['SUCCESS']);
    expect(await waitForLog(() => discovery.output(), 'info', 'reported')).toMatchObject({ endpoint: `127.0.0.1:${healthy.port}`, pair: 'ft/in', from: '127.0.0.2' });
    await waitFor(async () => (await healthOf(discovery.port, `127.0.0.1 ${healthy.port}`)) === 'up' && healthy.requests.length > probesBefore, {
      what: 'back up after a probe',
    });
    expect(await askOnce(discovery.port, 'LOOKUP ft in')).toEqual([`127.0.0.1 ${healthy.port}`]);
  });

  it('from a stranger about a dead server take it out of rotation as soon as the probes it asks for fail', async () => {
    const discovery = await startDiscovery(['--db', ':memory:', '--check-interval', '1m']);
    const dead = await converter(['ft', 'in']);
    await askOnce(discovery.port, `ADD ft in 127.0.0.1 ${dead.port}`);
    await waitFor(async () => (await healthOf(discovery.port, `127.0.0.1 ${dead.port}`)) === 'up', { what: 'up' });
    await dead.close();
    // No periodic probe will come for a minute: only the probes the report asks for take it out.
    expect(await askOnce(discovery.port, `REMOVE 127.0.0.1 ${dead.port}`, { localAddress: '127.0.0.2' })).toEqual(['SUCCESS']);
    await waitFor(async () => (await healthOf(discovery.port, `127.0.0.1 ${dead.port}`)) === 'down', { what: 'down after the probes' });
    expect(await askOnce(discovery.port, 'LOOKUP ft in')).toEqual([
      'FAILURE unknown pair. No healthy server converts ft <-> in; 1 registered: 0 pending a check, 1 down. (UNKNOWN_PAIR)',
    ]);
    expect(await healthOf(discovery.port, `127.0.0.1 ${dead.port}`)).toBe('down');
  });
});
