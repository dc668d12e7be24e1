import { afterEach, describe, expect, it } from 'vitest';
import { APP, findLog, startServer, stopAll, waitFor, waitForLog } from '@conv/testkit';
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

describe('heartbeats to a discovery that lists lease', () => {
  it('ADDs with lease= every heartbeat interval, over one session (SESSION first), not a connection each', async () => {
    fake = await startFakeDiscovery({ features: 'leased' });
    const server = await startServer(APP.converter, ['0', '--pair', 'b:gK', '--discovery', `127.0.0.1:${fake.port}`, '--lease', '1s', '--heartbeat-interval', '100ms']);
    const requests = fake.changes;
    await waitFor(() => requests().length >= 6, { what: 'six heartbeats' });
    expect(new Set(requests())).toEqual(new Set([`ADD b gK 127.0.0.1 ${server.port} lease=1s`]));
    // The FEATURES question on a connection of its own, then one session for every heartbeat.
    expect(fake.connections()).toBe(2);
    expect(fake.requests.slice(0, 3)).toEqual(['FEATURES', 'FEATURES', 'SESSION']);
  });

  it('to a discovery without lease, announces as before: plain ADD every announce interval, a connection each', async () => {
    fake = await startFakeDiscovery();
    const server = await startServer(APP.converter, ['0', '--pair', 'b:gK', '--discovery', `127.0.0.1:${fake.port}`, '--lease', '1s', '--heartbeat-interval', '100ms', '--announce-interval', '100ms']);
    await waitFor(() => fake !== undefined && fake.changes().length >= 3, { what: 'three announcements' });
    expect(new Set(fake.changes())).toEqual(new Set([`ADD b gK 127.0.0.1 ${server.port}`]));
    expect(fake.connections()).toBeGreaterThanOrEqual(4);
  });
});

describe('registration against a scripted discovery server', () => {
  it('skips a HELLO greeting and re-announces with ADD every interval', async () => {
    fake = await startFakeDiscovery({ greeting: 'HELLO discovery - send ADD, REMOVE, LOOKUP' });
    const server = await converter(fake.port);
    const requests = fake.changes;
    await waitFor(() => requests().length >= 3, { what: 'three announcements' });
    expect(new Set(requests())).toEqual(new Set([`ADD b gK 127.0.0.1 ${server.port}`]));
    expect(await waitForLog(() => server.output(), 'info', 'registered')).toBeDefined();
  });

  it('answers a seed-style "Failure entry exists." with REMOVE, then ADD', async () => {
    fake = await startFakeDiscovery({
      reply: (_request, index) =>
        index === 0 ? { kind: 'failure', failure: { code: 'UNSPECIFIED', message: 'entry exists.' } } : { kind: 'success' },
    });
    const server = await converter(fake.port);
    const requests = fake.changes;
    await waitFor(() => requests().length >= 3, { what: 'ADD, REMOVE, ADD' });
    expect(requests().slice(0, 3)).toEqual([
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
    expect(await waitForLog(() => server.output(), 'warn', 'registration-failed')).toMatchObject({ reason: 'unauthorized. token required. (UNAUTHORIZED)' });
  });

  it('sends REMOVE on SIGTERM and exits 0', async () => {
    fake = await startFakeDiscovery();
    const server = await converter(fake.port);
    const requests = fake.changes;
    await waitFor(() => requests().length >= 1, { what: 'the first ADD' });
    expect(await server.stop('SIGTERM')).toBe(0);
    expect(requests().at(-1)).toBe(`REMOVE 127.0.0.1 ${server.port}`);
  });

  it('registers and leaves under its --advertise address, not the one it listens on', async () => {
    fake = await startFakeDiscovery();
    const server = await startServer(APP.converter, [
      '0', '--pair', 'b:gK', '--host', '127.0.0.1', '--advertise', '127.0.0.5', '--discovery', `127.0.0.1:${fake.port}`,
    ]);
    expect(server.banner).toContain(`advertised as 127.0.0.5:${server.port}`);
    const requests = fake.changes;
    await waitFor(() => requests().length >= 1, { what: 'the first ADD' });
    expect(await server.stop('SIGTERM')).toBe(0);
    expect(requests()[0]).toBe(`ADD b gK 127.0.0.5 ${server.port}`);
    expect(requests().at(-1)).toBe(`REMOVE 127.0.0.5 ${server.port}`);
  });

  it('exits 0 on SIGTERM within --shutdown-timeout when discovery never answers', async () => {
    fake = await startFakeDiscovery({ silent: true });
    const server = await startServer(APP.converter, [
      '0', '--pair', 'b:gK', '--discovery', `127.0.0.1:${fake.port}`, '--shutdown-timeout', '300ms',
    ]);
    const requests = fake.changes;
    await waitFor(() => requests().length >= 1, { what: 'the first ADD' });
    expect(await server.stop('SIGTERM')).toBe(0);
    expect(await waitForLog(() => server.output(), 'warn', 'unregister-timeout')).toMatchObject({ timeoutMs: 300 });
  });
});

describe('registration with discovery servers written by other teams', () => {
  const converterOf = (discoveryPort: number, ...flags: string[]) =>
    startServer(APP.converter, ['0', '--pair', 'b:gK', '--discovery', `127.0.0.1:${discoveryPort}`, '--announce-interval', '100ms', ...flags]);

  it('skips a welcome line of any wording and reads Success, SUC or OK as success', async () => {
    for (const word of ['Success', 'SUC', 'OK', 'success.']) {
      fake = await startFakeDiscovery({ greeting: 'Welcome to the discovery server of team 7!', features: 'course', reply: () => word });
      const server = await converterOf(fake.port);
      await waitFor(() => findLog(server.output(), 'info', 'registered') !== undefined, { what: `registration read from ${word}` });
      // Judged once it has exited and its output is drained: a failure logged late is seen too.
      await server.stop();
      expect(findLog(server.output(), 'warn', 'registration-failed'), word).toBeUndefined();
      await fake.close();
    }
    fake = undefined;
  });

  it('announces once to a server that does not list session, and checks with LOOKUP instead of piling up copies', async () => {
    fake = await startFakeDiscovery({ features: 'course', reply: (request) => (request.verb === 'LOOKUP' ? `127.0.0.1 ${port}` : 'Success') });
    let port = 0;
    const server = await converterOf(fake.port);
    port = server.port;
    const requests = fake.changes;
    await waitFor(() => requests().filter((line) => line.startsWith('LOOKUP')).length >= 5, { what: 'five checks' });
    expect(requests().filter((line) => line.startsWith('ADD'))).toEqual([`ADD b gK 127.0.0.1 ${port}`]);
  });

  it('announces again to such a server once a LOOKUP shows its entry gone', async () => {
    let gone = false;
    fake = await startFakeDiscovery({
      features: 'course',
      reply: (request) => (request.verb === 'LOOKUP' ? (gone ? 'Failure no server for that pair' : `127.0.0.1 ${port}`) : 'Success'),
    });
    let port = 0;
    const server = await converterOf(fake.port);
    port = server.port;
    const requests = fake.changes;
    await waitFor(() => requests().some((line) => line.startsWith('LOOKUP')), { what: 'a first check' });
    gone = true;
    await waitFor(() => requests().filter((line) => line.startsWith('ADD')).length === 2, { what: 'the second ADD' });
    expect(await waitForLog(() => server.output(), 'info', 'entry-gone')).toBeDefined();
  });

  it('takes a refused re-registration (FAILURE EXISTS, failure exist) from such a server as registered', async () => {
    for (const refusal of ['FAILURE EXISTS', 'failure exist']) {
      fake = await startFakeDiscovery({ features: 'course', reply: (request) => (request.verb === 'ADD' ? refusal : 'Success') });
      const server = await converterOf(fake.port);
      await waitFor(() => findLog(server.output(), 'info', 'registered') !== undefined, { what: `registered despite ${refusal}` });
      expect(fake.changes().filter((line) => line.startsWith('REMOVE')), refusal).toEqual([]);
      await server.stop();
      await fake.close();
    }
    fake = undefined;
  });

  it('gives a server that never replies one ADD, not a storm', async () => {
    fake = await startFakeDiscovery({ silent: true });
    const server = await converterOf(fake.port);
    await waitFor(() => findLog(server.output(), 'info', 'registered') !== undefined, { what: 'the one ADD taken as done', timeoutMs: 20_000 });
    const adds = () => fake?.changes().filter((line) => line.startsWith('ADD')) ?? [];
    // Ten announce intervals later: still the one ADD (the checks are LOOKUPs).
    await waitFor(() => (fake?.changes().filter((line) => line.startsWith('LOOKUP')).length ?? 0) >= 3, { what: 'three checks', timeoutMs: 20_000 });
    expect(adds()).toHaveLength(1);
  });

  it('with --no-reannounce sends one ADD to conv\'s discovery too', async () => {
    fake = await startFakeDiscovery();
    const server = await converterOf(fake.port, '--no-reannounce');
    await waitFor(() => findLog(server.output(), 'info', 'registered') !== undefined, { what: 'registration' });
    expect(await server.stop('SIGTERM')).toBe(0);
    expect(fake.changes()).toEqual([`ADD b gK 127.0.0.1 ${server.port}`, `REMOVE 127.0.0.1 ${server.port}`]);
  });
});
