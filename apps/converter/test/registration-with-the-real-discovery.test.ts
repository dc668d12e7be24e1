import { afterEach, describe, expect, it } from 'vitest';
import { APP, LineClient, exchange, findLog, startServer, stopAll, waitFor, waitForLog } from '@conv/testkit';
import { freePort, registrationOf } from './harness';

// Runs against the built discovery app (apps/discovery), as the system runs in production.
const discovery = (port = 0) =>
  startServer(APP.discovery, ['--db', ':memory:', '--port', String(port), '--check-interval', '100ms']);

const converter = (discoveryPort: number, ...flags: string[]) =>
  startServer(APP.converter, [
    '0', '--pair', 'ft:in', '--discovery', `127.0.0.1:${discoveryPort}`, '--announce-interval', '200ms', ...flags,
  ]);

afterEach(stopAll);

describe('registration with the real discovery server', () => {
  it('ADDs itself on start, and discovery probes it up', async () => {
    const registry = await discovery();
    const server = await converter(registry.port);
    await waitFor(async () => (await registrationOf(registry.port, server.port)) === 'ft in up', {
      what: 'the converter listed up',
    });
    expect(await waitForLog(() => server.output(), 'info', 'registered')).toMatchObject({ host: '127.0.0.1', port: expect.any(Number) as unknown, pair: 'ft:in', attempts: 1 });
  });

  it('registers within the backoff when discovery starts after it, serving meanwhile', async () => {
    const port = await freePort();
    const server = await converter(port);
    await waitFor(() => findLog(server.output(), 'warn', 'registration-failed') !== undefined, { what: 'a failed first attempt' });
    expect((await exchange(server.port, 'ft in 1'))[1]).toBe('12');
    const registry = await discovery(port);
    await waitFor(async () => (await registrationOf(registry.port, server.port))?.startsWith('ft in'), {
      what: 'the converter registered',
    });
  });

  it('is known again within a few announce intervals after discovery is SIGKILLed and restarted empty', async () => {
    const first = await discovery();
    const server = await converter(first.port);
    await waitFor(async () => (await registrationOf(first.port, server.port)) === 'ft in up', { what: 'listed up' });
    first.kill('SIGKILL');
    await first.exited;
    const second = await discovery(first.port);
    expect(second.port).toBe(first.port);
    await waitFor(async () => (await registrationOf(second.port, server.port)) === 'ft in up', {
      what: 'the converter listed up by the restarted discovery',
    });
  });

  it('replaces a registration of its host:port for another pair', async () => {
    const registry = await discovery();
    const port = await freePort();
    const admin = await LineClient.connect(registry.port);
    expect(await admin.request(`ADD kg g 127.0.0.1 ${port}`)).toEqual(['SUCCESS']);
    admin.close();
    expect(await registrationOf(registry.port, port)).toMatch(/^g kg /);
    const server = await startServer(APP.converter, [
      String(port), '--pair', 'ft:in', '--discovery', `127.0.0.1:${registry.port}`, '--announce-interval', '200ms',
    ]);
    await waitFor(async () => (await registrationOf(registry.port, port)) === 'ft in up', { what: 'ft in replacing kg g' });
    // The old registration never came up: discovery replaced it once ft in passed its probe.
    expect(await waitFor(() => findLog(registry.output(), 'info', 'replaced'), { what: 'the replacement logged' })).toMatchObject({ was: 'g/kg', pair: 'ft/in' });
    expect(await waitForLog(() => server.output(), 'info', 'registered')).toBeDefined();
  });

  it('REMOVEs itself on SIGTERM and exits 0', async () => {
    const registry = await discovery();
    const server = await converter(registry.port);
    await waitFor(async () => (await registrationOf(registry.port, server.port)) === 'ft in up', { what: 'listed up' });
    expect(await server.stop('SIGTERM')).toBe(0);
    expect(await registrationOf(registry.port, server.port)).toBeUndefined();
    expect(await waitForLog(() => server.output(), 'info', 'unregistered')).toBeDefined();
  });
});

describe('a converter frozen and continued (SIGSTOP, SIGCONT)', () => {
  it('announces itself again at once, not at the end of its interval', async () => {
    const registry = await discovery();
    // A long interval: only the resume can bring it back within this test's deadline.
    const server = await startServer(APP.converter, [
      '0', '--pair', 'ft:in', '--discovery', `127.0.0.1:${registry.port}`, '--announce-interval', '60s',
    ]);
    await waitFor(async () => (await registrationOf(registry.port, server.port)) === 'ft in up', { what: 'listed up' });
    server.kill('SIGSTOP');
    try {
      // Meanwhile the server is dropped, as a proxy's report on its own host would.
      const admin = await LineClient.connect(registry.port);
      expect(await admin.request(`REMOVE 127.0.0.1 ${server.port}`)).toEqual(['SUCCESS']);
      admin.close();
    } finally {
      server.kill('SIGCONT');
    }
    await waitFor(async () => (await registrationOf(registry.port, server.port)) === 'ft in up', {
      what: 'the resumed converter registered again',
      timeoutMs: 15_000,
    });
  });
});
