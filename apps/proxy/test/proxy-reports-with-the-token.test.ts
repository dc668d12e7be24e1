import { APP, type ServerProcess, startServer, stopAll, waitFor } from '@conv/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { ask, list, waitUp } from './system';

const SECRET = 'proxy-and-converters-share-this';
afterEach(stopAll);

async function system(proxyToken: string | undefined) {
  // A long down-grace: only a report (never the health checks) can make an endpoint vanish here.
  const discovery = await startServer(APP.discovery, ['0', '--db', ':memory:', '--check-interval', '100ms', '--down-grace', '1h', '--token', SECRET]);
  const converter = () =>
    startServer(APP.converter, ['0', '--pair', 'ft:in', '--discovery', `127.0.0.1:${discovery.port}`], { env: { CONV_TOKEN: SECRET } });
  const replicas: ServerProcess[] = [await converter(), await converter()];
  await waitUp(discovery, 2);
  const proxy = await startServer(APP.proxy, ['0', '127.0.0.1', String(discovery.port)], { env: { CONV_TOKEN: proxyToken ?? '' } });
  return { discovery, replicas, proxy };
}

describe('the proxy reports dead converters to a discovery server that requires a token', () => {
  it('with the token: the dead replica is removed at once, and answers keep coming', async () => {
    const { discovery, replicas, proxy } = await system(SECRET);
    const [dead, alive] = replicas as [ServerProcess, ServerProcess];
    // Both replicas in use before the kill, so the proxy is sure to meet the dead one.
    for (let i = 0; i < 4; i++) expect(await ask(proxy, 'ft in 1')).toBe('12');
    dead.kill('SIGKILL');
    await dead.exited;
    for (let i = 0; i < 6; i++) expect(await ask(proxy, 'ft in 2')).toBe('24');
    await waitFor(async () => (await list(discovery)).length === 1, { what: 'the report to remove the dead replica' });
    expect(await list(discovery)).toEqual([`ft in 127.0.0.1 ${alive.port} up`]);
    expect(proxy.output()).not.toContain(SECRET);
  });

  it('without the token: the report is refused and logged, and answers still keep coming', async () => {
    const { discovery, replicas, proxy } = await system(undefined);
    const [dead] = replicas as [ServerProcess, ServerProcess];
    for (let i = 0; i < 4; i++) expect(await ask(proxy, 'ft in 1')).toBe('12');
    dead.kill('SIGKILL');
    await dead.exited;
    for (let i = 0; i < 6; i++) expect(await ask(proxy, 'ft in 2')).toBe('24');
    await waitFor(() => proxy.output().includes('UNAUTHORIZED'), { what: 'the refused report in the proxy log' });
    // Marked down by the health checks instead, but still registered (down-grace is an hour).
    await waitFor(async () => (await list(discovery)).includes(`ft in 127.0.0.1 ${dead.port} down`), { what: 'the dead replica down' });
  });
});
