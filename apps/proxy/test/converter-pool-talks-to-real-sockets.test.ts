import { type Server, type Socket, createServer } from 'node:net';
import { startFakeConverter } from '@conv/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { ConverterPool } from '../src/converter-pool';
import { silentLogger } from '@conv/server';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

/** A TCP server run by the test itself; `onSocket` scripts the converter's side. */
async function server(onSocket: (socket: Socket, connections: number) => void): Promise<{ port: number; connections: () => number }> {
  let connections = 0;
  const sockets = new Set<Socket>();
  const srv: Server = createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
    onSocket(socket, connections);
  });
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        srv.close(() => resolve());
      }),
  );
  const address = srv.address();
  if (address === null || typeof address === 'string') throw new Error('no address');
  return { port: address.port, connections: () => connections };
}

/**
 * A converter that speaks the persistent mode as conv's does: greeting, `OK persistent tagged`,
 * then `onRequest` with each request's amount and the way to answer it (with its tag).
 */
function persistentConverter(onRequest: (answer: (text: string) => void, amount: number) => void): (socket: Socket) => void {
  return (socket) => {
    socket.setEncoding('utf8');
    socket.write('HELLO converter a b - send "<from> <to> <amount>"\n');
    let buffer = '';
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      for (let i = buffer.indexOf('\n'); i >= 0; i = buffer.indexOf('\n')) {
        const line = buffer.slice(0, i).trim();
        buffer = buffer.slice(i + 1);
        if (line === 'PERSIST TAGGED') {
          socket.write('OK persistent tagged\n');
          continue;
        }
        const [tag, , , amount] = line.split(' ');
        onRequest((text) => socket.write(`${tag} ${text}\n`), Number(amount));
      }
    });
  };
}

/** Doubles each amount at once. */
const persistentDoubler = persistentConverter((answer, amount) => answer(String(amount * 2)));

function pool(hopTimeoutMs = 1000, maxOpenPerEndpoint?: number): ConverterPool {
  const created = new ConverterPool({ hopTimeoutMs, log: silentLogger, ...(maxOpenPerEndpoint ? { maxOpenPerEndpoint } : {}) });
  cleanups.push(() => created.close());
  return created;
}

describe('the converter pool', () => {
  it('reuses one persistent connection for many hops', async () => {
    const converter = await server(persistentDoubler);
    const converters = pool();
    const endpoint = { host: '127.0.0.1', port: converter.port };
    for (let i = 1; i <= 5; i++) expect(await converters.convert(endpoint, `a b ${i}\n`)).toEqual({ kind: 'line', line: String(2 * i) });
    expect(converter.connections()).toBe(1);
  });

  // Regression: it kept 16 idle connections per endpoint and closed the rest after each burst,
  // so a proxy under steady load of more than 16 hops at once reconnected (connect, greeting,
  // PERSIST) for most hops of the next burst.
  it('keeps every connection a burst opened for the next burst, instead of connecting again', async () => {
    const BURST = 40;
    // Answers nothing until a whole burst of requests is in, so each hop of a burst needs a connection of its own.
    const held: { answer: (text: string) => void; amount: number }[] = [];
    const converter = await server(
      persistentConverter((answer, amount) => {
        held.push({ answer, amount });
        if (held.length === BURST) for (const { answer: reply, amount: asked } of held.splice(0)) reply(String(asked * 2));
      }),
    );
    const converters = pool();
    const endpoint = { host: '127.0.0.1', port: converter.port };
    const burst = () => Promise.all(Array.from({ length: BURST }, (_, i) => converters.convert(endpoint, `a b ${i}\n`)));
    expect((await burst()).map((reply) => (reply.kind === 'line' ? reply.line : reply.kind))).toEqual(Array.from({ length: BURST }, (_, i) => String(2 * i)));
    expect(converter.connections()).toBe(BURST);
    expect((await burst()).every((reply) => reply.kind === 'line')).toBe(true);
    expect(converter.connections()).toBe(BURST);
  });

  it('bounds its connections per endpoint: concurrent hops wait for a free one', async () => {
    const converter = await server(persistentDoubler);
    const converters = pool(1000, 2);
    const endpoint = { host: '127.0.0.1', port: converter.port };
    const replies = await Promise.all(Array.from({ length: 10 }, (_, i) => converters.convert(endpoint, `a b ${i}\n`)));
    expect(replies).toEqual(Array.from({ length: 10 }, (_, i) => ({ kind: 'line', line: String(2 * i) })));
    expect(converter.connections()).toBe(2);
  });

  it('falls back to one-shot exchanges with a course-style server that does not speak PERSIST', async () => {
    const fake = await startFakeConverter({ units: ['ft', 'in'], factor: 12 });
    cleanups.push(() => fake.close());
    const converters = pool();
    const endpoint = { host: '127.0.0.1', port: fake.port };
    expect(await converters.convert(endpoint, 'ft in 1.25\n')).toEqual({ kind: 'line', line: '15' });
    expect(await converters.convert(endpoint, 'in ft 30\n')).toEqual({ kind: 'line', line: '2.5' });
    // Tags first, then plain PERSIST (a converter from before tags speaks that), then one-shot.
    expect(fake.requests).toEqual(['PERSIST TAGGED', 'PERSIST', 'ft in 1.25', 'in ft 30']);
  });

  it('calls an endpoint dead when it refuses the connection', async () => {
    const closed = await server(() => undefined);
    await cleanups.pop()?.();
    const attempt = await pool().convert({ host: '127.0.0.1', port: closed.port }, 'a b 1\n');
    expect(attempt).toMatchObject({ kind: 'dead', reason: expect.stringMatching(/ECONNREFUSED/) as unknown });
  });

  it('calls an endpoint dead when it accepts but never answers within the hop timeout', async () => {
    const silent = await server(() => undefined);
    const attempt = await pool(200).convert({ host: '127.0.0.1', port: silent.port }, 'a b 1\n');
    expect(attempt).toMatchObject({ kind: 'dead', reason: expect.stringMatching(/no answer .* within 200ms/) as unknown });
  });

  it('calls an endpoint dead when it closes without answering', async () => {
    const rude = await server((socket) => socket.destroy());
    expect((await pool().convert({ host: '127.0.0.1', port: rude.port }, 'a b 1\n')).kind).toBe('dead');
  });

  it('opens a fresh connection when the server dropped a pooled one', async () => {
    const converter = await server((socket, n) => {
      persistentDoubler(socket);
      // The first connection dies after its first answer, as an idle timeout would close it.
      let lines = 0;
      if (n === 1) socket.on('data', () => ++lines === 2 && setImmediate(() => socket.destroy()));
    });
    const converters = pool();
    const endpoint = { host: '127.0.0.1', port: converter.port };
    expect(await converters.convert(endpoint, 'a b 1\n')).toEqual({ kind: 'line', line: '2' });
    expect(await converters.convert(endpoint, 'a b 2\n')).toEqual({ kind: 'line', line: '4' });
  });
});
