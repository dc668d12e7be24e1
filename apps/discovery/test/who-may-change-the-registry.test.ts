import { APP, type ServerProcess, startFakeConverter, startServer, stopAll, waitFor } from '@conv/testkit';
import type { FakeConverter } from '@conv/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { readConfig as parseCli } from '../src/config';
import { ServerError } from '@conv/server';
import { ask, FAST_CHECKS, openSession, startDiscovery } from './helpers';

const SECRET = 'correct-horse-battery-staple';
const converters: FakeConverter[] = [];
afterEach(async () => {
  await Promise.all(converters.splice(0).map((c) => c.close()));
  await stopAll();
});

async function converter(units: readonly [string, string]): Promise<FakeConverter> {
  const started = await startFakeConverter({ units, factor: 12 });
  converters.push(started);
  return started;
}

const list = async (discovery: ServerProcess) => {
  const client = await openSession(discovery.port);
  const lines = await ask(client, 'LIST');
  client.close();
  return lines;
};

describe('with a token set', () => {
  it('refuses ADD and REMOVE without it or with a wrong one, and changes nothing', async () => {
    const ft = await converter(['ft', 'in']);
    const discovery = await startDiscovery(['--db', ':memory:', ...FAST_CHECKS, '--token', SECRET]);
    const client = await openSession(discovery.port);
    expect(await ask(client, `ADD ft in 127.0.0.1 ${ft.port} token=${SECRET}`)).toEqual(['SUCCESS']);

    for (const line of [
      `ADD kg g 127.0.0.1 ${ft.port + 1}`,
      `ADD kg g 127.0.0.1 ${ft.port + 1} token=guess`,
      `REMOVE 127.0.0.1 ${ft.port}`,
      `REMOVE 127.0.0.1 ${ft.port} token=${SECRET}x`,
    ]) {
      const [answer] = await ask(client, line);
      expect(answer, line).toMatch(/^FAILURE unauthorized\. .*\(UNAUTHORIZED\)$/);
    }
    expect(await list(discovery)).toEqual([expect.stringMatching(new RegExp(`^ft in 127\\.0\\.0\\.1 ${ft.port} `)), 'END']);

    // Lookups stay open to everyone.
    await waitFor(async () => (await ask(client, 'LOOKUP in ft'))[0] === `127.0.0.1 ${ft.port}`, { what: 'ft/in to be up' });
    client.close();
  });

  it('takes the token from CONV_TOKEN, and never writes the secret to its output', async () => {
    expect(parseCli([], { CONV_TOKEN: SECRET })).toMatchObject({ kind: 'run', config: { token: SECRET } });
    expect(parseCli(['--token', 'flag-wins'], { CONV_TOKEN: SECRET })).toMatchObject({ config: { token: 'flag-wins' } });

    // The process itself, given the secret only in its environment: it guards the registry with it.
    const discovery = await startServer(APP.discovery, ['0', '--db', ':memory:', ...FAST_CHECKS, '--log-level', 'debug'], { env: { CONV_TOKEN: SECRET } });
    const client = await openSession(discovery.port);
    expect((await ask(client, 'ADD ft in 127.0.0.1 9'))[0]).toMatch(/\(UNAUTHORIZED\)$/);
    expect((await ask(client, 'ADD ft in 127.0.0.1 9 token=wrong'))[0]).toMatch(/\(UNAUTHORIZED\)$/);
    expect(await ask(client, `ADD ft in 127.0.0.1 9 token=${SECRET}`)).toEqual(['SUCCESS']);
    expect(await ask(client, `REMOVE 127.0.0.1 9 token=${SECRET}`)).toEqual(['SUCCESS']);
    client.close();
    // `exited` comes once its output is drained: every line it wrote is there to be searched.
    expect(await discovery.stop()).toBe(0);
    expect(discovery.output()).toMatch(/unauthorized/);
    expect(discovery.output()).not.toContain(SECRET);
  });

  it('lets a holder of the token remove an endpoint from any address', async () => {
    const ft = await converter(['ft', 'in']);
    const discovery = await startDiscovery(['--db', ':memory:', ...FAST_CHECKS, '--token', SECRET]);
    const owner = await openSession(discovery.port);
    expect(await ask(owner, `ADD ft in 127.0.0.1 ${ft.port} token=${SECRET}`)).toEqual(['SUCCESS']);
    owner.close();
    const admin = await openSession(discovery.port, { localAddress: '127.0.0.2' });
    expect(await ask(admin, `REMOVE 127.0.0.1 ${ft.port} token=${SECRET}`)).toEqual(['SUCCESS']);
    admin.close();
    expect(await list(discovery)).toEqual(['END']);
  });

  it('refuses a malformed token flag with one line that does not echo it', () => {
    let message = '';
    try {
      parseCli(['--token', 'has space']);
    } catch (error) {
      if (error instanceof ServerError) message = error.message;
    }
    expect(message).toMatch(/^--token /);
    expect(message).not.toContain('has space');
  });
});

describe('without a token', () => {
  it('never hands out an ADD that points at an address not serving the pair', async () => {
    const kg = await converter(['kg', 'g']);
    const discovery = await startDiscovery(['--db', ':memory:', ...FAST_CHECKS, '--pending-grace', '1s']);
    const client = await openSession(discovery.port);
    // An attacker registers a server of another pair, and an address where nothing listens.
    expect(await ask(client, `ADD ft in 127.0.0.1 ${kg.port}`)).toEqual(['SUCCESS']);
    expect(await ask(client, 'ADD ft in 127.0.0.1 9')).toEqual(['SUCCESS']);
    // Never handed out while pending, and swept once the grace has passed.
    await waitFor(async () => (await list(discovery)).length === 1, { what: 'the bogus registrations to be swept' });
    expect((await ask(client, 'LOOKUP ft in'))[0]).toMatch(/^FAILURE unknown pair\./);
    // The kg/g server was probed (for ft/in, the pair claimed) and so was found out, not just never asked.
    await waitFor(() => kg.requests.length > 0, { what: 'the admission probe to reach the kg/g server' });
    expect(kg.requests.length).toBeGreaterThan(0);
    expect(kg.requests.filter((r) => !r.startsWith('ft in') && !r.startsWith('in ft'))).toEqual([]);
    client.close();
  });

  it('treats a stranger\'s REMOVE of a healthy server as a report: the server stays', async () => {
    const ft = await converter(['ft', 'in']);
    const discovery = await startDiscovery(['--db', ':memory:', ...FAST_CHECKS]);
    const owner = await openSession(discovery.port);
    expect(await ask(owner, `ADD ft in 127.0.0.1 ${ft.port}`)).toEqual(['SUCCESS']);
    await waitFor(async () => (await ask(owner, 'LOOKUP ft in'))[0] === `127.0.0.1 ${ft.port}`, { what: 'ft/in up' });
    const stranger = await openSession(discovery.port, { localAddress: '127.0.0.2' });
    expect(await ask(stranger, `REMOVE 127.0.0.1 ${ft.port}`)).toEqual(['SUCCESS']);
    stranger.close();
    await waitFor(async () => (await ask(owner, 'LOOKUP ft in'))[0] === `127.0.0.1 ${ft.port}`, {
      what: 'the healthy server to be handed out again after the report',
    });
    expect(await list(discovery)).toEqual([`ft in 127.0.0.1 ${ft.port} up`, 'END']);
    owner.close();
  });

  it('accepts and ignores a token, so a converter configured with one still registers', async () => {
    const discovery = await startDiscovery(['--db', ':memory:', '--trust-registrations', '--check-interval', '0']);
    const client = await openSession(discovery.port);
    expect(await ask(client, 'ADD ft in 127.0.0.1 7 token=anything')).toEqual(['SUCCESS']);
    client.close();
  });
});
