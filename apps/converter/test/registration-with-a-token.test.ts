import { APP, type ServerProcess, exchange, startServer, stopAll, waitFor } from '@conv/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { registrationOf } from './harness';

const SECRET = 'tr0ub4dor&3';

const discovery = () =>
  startServer(APP.discovery, ['0', '--db', ':memory:', '--check-interval', '100ms', '--token', SECRET]);

const converter = (registry: ServerProcess, flags: string[], env: NodeJS.ProcessEnv = {}) =>
  startServer(
    APP.converter,
    ['0', '--pair', 'ft:in', '--discovery', `127.0.0.1:${registry.port}`, '--announce-interval', '200ms', ...flags],
    { env },
  );

afterEach(stopAll);

describe('registration with a discovery server that requires a token', () => {
  it('registers with --token, and removes itself with it on SIGTERM', async () => {
    const registry = await discovery();
    const server = await converter(registry, ['--token', SECRET]);
    await waitFor(async () => (await registrationOf(registry.port, server.port)) === 'ft in up', { what: 'listed up' });
    expect(await server.stop('SIGTERM')).toBe(0);
    expect(await registrationOf(registry.port, server.port)).toBeUndefined();
    expect(server.output()).not.toContain(SECRET);
  });

  it('takes the token from CONV_TOKEN', async () => {
    const registry = await discovery();
    const server = await converter(registry, [], { CONV_TOKEN: SECRET });
    await waitFor(async () => (await registrationOf(registry.port, server.port)) === 'ft in up', { what: 'listed up' });
  });

  it('is refused without the token, says so, and keeps serving conversions', async () => {
    const registry = await discovery();
    const server = await converter(registry, [], { CONV_TOKEN: '' });
    await waitFor(() => /UNAUTHORIZED|unauthorized/.test(server.output()), { what: 'the refusal to be logged' });
    expect(await registrationOf(registry.port, server.port)).toBeUndefined();
    expect((await exchange(server.port, 'ft in 1'))[1]).toBe('12');
  });
});
