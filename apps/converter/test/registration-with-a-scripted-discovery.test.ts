import { afterEach, describe, expect, it } from 'vitest';
import { APP, findLog, startServer, stopAll, waitFor } from '@conv/testkit';
import { failure } from '@conv/protocol';
import { type FakeDiscovery, startFakeDiscovery } from './harness';

// Discovery behaviour the real server cannot be made to show on demand: a greeting line,
// a seed-style failure without a code, and a count of every line the converter sent.
let fake: FakeDiscovery | undefined;
afterEach(async () => {
  await stopAll();
  await fake?.close();
  fake = undefined;
});

const converter = (discoveryPort: number) =>
  startServer(APP.converter, ['0', '--pair', 'b:gK', '--discovery', `127.0.0.1:${discoveryPort}`, '--announce-interval', '100ms']);

describe('registration against a scripted discovery server', () => {
  it('skips a HELLO greeting and re-announces with ADD every interval', async () => {
    fake = await startFakeDiscovery({ greeting: 'HELLO discovery - send ADD, REMOVE, LOOKUP' });
    const server = await converter(fake.port);
    const requests = fake.requests;
    await waitFor(() => requests.length >= 3, { what: 'three announcements' });
    expect(new Set(requests)).toEqual(new Set([`ADD b gK 127.0.0.1 ${server.port}`]));
    expect(findLog(server.output(), 'info', 'registered')).toBeDefined();
  });

  it('answers a seed-style "Failure entry exists." with REMOVE, then ADD', async () => {
    fake = await startFakeDiscovery({
      reply: (_request, index) =>
        index === 0 ? { kind: 'failure', failure: { code: 'UNSPECIFIED', message: 'entry exists.' } } : { kind: 'success' },
    });
    const server = await converter(fake.port);
    const requests = fake.requests;
    await waitFor(() => requests.length >= 3, { what: 'ADD, REMOVE, ADD' });
    expect(requests.slice(0, 3)).toEqual([
      `ADD b gK 127.0.0.1 ${server.port}`,
      `REMOVE 127.0.0.1 ${server.port}`,
      `ADD b gK 127.0.0.1 ${server.port}`,
    ]);
  });

  it('keeps retrying after a refusal other than entry exists, and says why', async () => {
    fake = await startFakeDiscovery({
      reply: (_request, index) => (index < 2 ? { kind: 'failure', failure: failure('UNAUTHORIZED', 'token required.') } : { kind: 'success' }),
    });
    const server = await converter(fake.port);
    await waitFor(() => findLog(server.output(), 'info', 'registered') !== undefined, { what: 'registration after two refusals' });
    expect(findLog(server.output(), 'warn', 'registration-failed')).toMatchObject({ reason: 'unauthorized. token required. (UNAUTHORIZED)' });
  });

  it('sends REMOVE on SIGTERM and exits 0', async () => {
    fake = await startFakeDiscovery();
    const server = await converter(fake.port);
    const requests = fake.requests;
    await waitFor(() => requests.length >= 1, { what: 'the first ADD' });
    expect(await server.stop('SIGTERM')).toBe(0);
    expect(requests.at(-1)).toBe(`REMOVE 127.0.0.1 ${server.port}`);
  });

  it('registers and leaves under its --advertise address, not the one it listens on', async () => {
    fake = await startFakeDiscovery();
    const server = await startServer(APP.converter, [
      '0', '--pair', 'b:gK', '--host', '127.0.0.1', '--advertise', '127.0.0.5', '--discovery', `127.0.0.1:${fake.port}`,
    ]);
    expect(server.banner).toContain(`advertised as 127.0.0.5:${server.port}`);
    const requests = fake.requests;
    await waitFor(() => requests.length >= 1, { what: 'the first ADD' });
    expect(await server.stop('SIGTERM')).toBe(0);
    expect(requests[0]).toBe(`ADD b gK 127.0.0.5 ${server.port}`);
    expect(requests.at(-1)).toBe(`REMOVE 127.0.0.5 ${server.port}`);
  });

  it('exits 0 on SIGTERM within --shutdown-timeout when discovery never answers', async () => {
    fake = await startFakeDiscovery({ silent: true });
    const server = await startServer(APP.converter, [
      '0', '--pair', 'b:gK', '--discovery', `127.0.0.1:${fake.port}`, '--shutdown-timeout', '300ms',
    ]);
    const requests = fake.requests;
    await waitFor(() => requests.length >= 1, { what: 'the first ADD' });
    expect(await server.stop('SIGTERM')).toBe(0);
    expect(findLog(server.output(), 'warn', 'unregister-timeout')).toMatchObject({ timeoutMs: 300 });
  });
});
