import { LineClient, RawClient, waitFor } from '@conv/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { type ConnectionMode, type LineServer, type LineServerOptions, type LineSession, createLogger, startLineServer } from '../src/index';

const log = createLogger({ name: 'test', level: 'error', write: () => undefined });
const servers: LineServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close(0)));
});

/** A promise the test resolves by hand: a reply held until the test says so. */
function gate<T>(): { promise: Promise<T>; open(value: T): void } {
  let open!: (value: T) => void;
  const promise = new Promise<T>((resolve) => (open = resolve));
  return { promise, open };
}

type Echo = { mode: ConnectionMode; hold?: Promise<string> };

/**
 * The protocol of these tests: each line answered in capitals. `KEEP` makes the connection
 * persistent, `WATCH` watching, `HOLD` answers with the next gate the test opens, `BOOM` throws.
 */
function echoSession(start: ConnectionMode, held: Promise<string>[] = [], pushes?: (push: (text: string) => boolean) => void): LineServerOptions['session'] {
  return (connection) => {
    const state: Echo = { mode: start };
    pushes?.((text) => connection.push(text));
    const session: LineSession = {
      greeting: 'HELLO test\n',
      get mode() {
        return state.mode;
      },
      handle(line) {
        if (line === 'KEEP') state.mode = 'persistent';
        if (line === 'WATCH') state.mode = 'watching';
        if (line === 'BOOM') throw new Error('a bug');
        if (line === 'HOLD') return held.shift() ?? Promise.resolve('NOTHING HELD\n');
        return `${line.toUpperCase()}\n`;
      },
    };
    return session;
  };
}

async function listen(options: Partial<LineServerOptions> & Pick<LineServerOptions, 'session'>): Promise<LineServer> {
  const server = await startLineServer({
    host: '127.0.0.1',
    port: 0,
    maxConnections: 16,
    idleTimeoutMs: 0,
    idleNotice: true,
    maxLineBytes: 64,
    log,
    ...options,
  });
  servers.push(server);
  return server;
}

describe('a connection in single mode (the course conversion exchange)', () => {
  it('greets, answers one request, closes, and ignores whatever else was pipelined', async () => {
    const server = await listen({ session: echoSession('single') });
    const client = await LineClient.connect(server.address.port);
    client.send('ft in 1\nsecond\n');
    await client.closed;
    expect(client.lines).toEqual(['HELLO test', 'FT IN 1']);
  });

  it('answers a last line sent without a newline by a client that half-closes', async () => {
    const server = await listen({ session: echoSession('single') });
    const client = await LineClient.connect(server.address.port);
    client.socket.end('no newline');
    await client.closed;
    expect(client.lines).toEqual(['HELLO test', 'NO NEWLINE']);
  });

  it('answers a line too long, or not UTF-8, with one FAILURE and closes', async () => {
    const server = await listen({ session: echoSession('single') });
    const long = await LineClient.connect(server.address.port);
    long.send(`${'x'.repeat(100)}\n`);
    await long.closed;
    expect(long.lines).toEqual(['HELLO test', 'FAILURE line too long. Lines are limited to 64 bytes. (LINE_TOO_LONG)']);
    const binary = await LineClient.connect(server.address.port);
    binary.send(new Uint8Array([0x66, 0xff, 0x0a]));
    await binary.closed;
    expect(binary.lines).toEqual(['HELLO test', 'FAILURE invalid text. Lines must be UTF-8 text. (INVALID_UTF8)']);
  });
});

describe('a persistent connection', () => {
  it('answers every line in order, held replies included, pipelined or not', async () => {
    const first = gate<string>();
    const server = await listen({ session: echoSession('single', [first.promise]) });
    const client = await LineClient.connect(server.address.port);
    client.send('KEEP\na\nHOLD\nb\n');
    expect(await client.nextLines(3)).toEqual(['HELLO test', 'KEEP', 'A']);
    // Nothing after the held reply is answered before it.
    first.open('HELD\n');
    expect(await client.nextLines(2)).toEqual(['HELD', 'B']);
    client.send('c');
    expect(await client.nextLine()).toBe('C');
    expect(client.isClosed).toBe(false);
    client.close();
  });

  it('keeps serving after a line that is not UTF-8, and closes after a line too long', async () => {
    const server = await listen({ session: echoSession('persistent') });
    const client = await LineClient.connect(server.address.port);
    client.send(new Uint8Array([0x66, 0xff, 0x0a]));
    client.send('after\n');
    expect(await client.nextLines(3)).toEqual(['HELLO test', 'FAILURE invalid text. Lines must be UTF-8 text. (INVALID_UTF8)', 'AFTER']);
    client.send(`${'x'.repeat(100)}\nnever answered\n`);
    await client.closed;
    expect(client.lines.slice(3)).toEqual(['FAILURE line too long. Lines are limited to 64 bytes. (LINE_TOO_LONG)']);
  });

  it('turns a session that throws into one INTERNAL line and keeps serving', async () => {
    const server = await listen({ session: echoSession('persistent') });
    const client = await LineClient.connect(server.address.port);
    client.send('BOOM\nstill here\n');
    expect(await client.nextLines(3)).toEqual([
      'HELLO test',
      'FAILURE internal error. The server could not answer this request; it keeps serving others. (INTERNAL)',
      'STILL HERE',
    ]);
    client.close();
  });

  it('closes a silent client with one IDLE_TIMEOUT line, or silently when told so', async () => {
    const noisy = await listen({ session: echoSession('persistent'), idleTimeoutMs: 100 });
    const told = await LineClient.connect(noisy.address.port);
    await told.closed;
    expect(told.lines).toEqual(['HELLO test', 'FAILURE idle timeout. Nothing was received for 100 ms; closing. (IDLE_TIMEOUT)']);
    const quiet = await listen({ session: echoSession('persistent'), idleTimeoutMs: 100, idleNotice: false });
    const untold = await LineClient.connect(quiet.address.port);
    await untold.closed;
    expect(untold.lines).toEqual(['HELLO test']);
  });
});

describe('a connection in grace mode (the course discovery exchange)', () => {
  it('answers, then closes without a word when no further request comes within the grace', async () => {
    const server = await listen({ session: echoSession('grace'), closeGraceMs: 100, idleTimeoutMs: 60_000 });
    const client = await LineClient.connect(server.address.port);
    client.send('lookup in cm');
    // A client that reads until the server closes gets exactly its reply.
    await client.closed;
    expect(client.lines).toEqual(['HELLO test', 'LOOKUP IN CM']);
  });

  it('answers a request that comes within the grace, and a partial line does not keep it open', async () => {
    const server = await listen({ session: echoSession('grace'), closeGraceMs: 300, idleTimeoutMs: 60_000 });
    const client = await LineClient.connect(server.address.port);
    client.send('one');
    expect(await client.nextLines(2)).toEqual(['HELLO test', 'ONE']);
    client.send('two');
    expect(await client.nextLine()).toBe('TWO');
    client.socket.write('par');
    await client.closed;
    expect(client.lines).toEqual(['HELLO test', 'ONE', 'TWO']);
  });
});

describe('a watching connection', () => {
  it('is exempt from the idle timeout and gets pushed lines between replies, never inside one', async () => {
    const held = gate<string>();
    let push: ((text: string) => boolean) | undefined;
    const holds: Promise<string>[] = [];
    const server = await listen({ session: echoSession('persistent', holds, (p) => (push = p)), idleTimeoutMs: 100 });
    const client = await LineClient.connect(server.address.port);
    client.send('WATCH');
    expect(await client.nextLines(2)).toEqual(['HELLO test', 'WATCH']);
    holds.push(held.promise);
    client.send('HOLD');
    await waitFor(() => holds.length === 0, { what: 'the server to hold the reply' });
    // Pushed while a reply is held: it waits for the reply.
    expect(push?.('CHANGE 1\n')).toBe(true);
    held.open('FIRST\nSECOND\n');
    expect(await client.nextLines(3)).toEqual(['FIRST', 'SECOND', 'CHANGE 1']);
    // Five idle timeouts later it is still open.
    const quietUntil = Date.now() + 500;
    await waitFor(() => Date.now() > quietUntil, { what: 'five idle timeouts to pass' });
    expect(client.isClosed).toBe(false);
    expect(push?.('CHANGE 2\n')).toBe(true);
    expect(await client.nextLine()).toBe('CHANGE 2');
    client.close();
    await waitFor(() => push?.('CHANGE 3\n') === false, { what: 'push to report the connection gone' });
  });
});

describe('limits and shutdown', () => {
  it('refuses a connection over the limit with one TOO_MANY_CONNECTIONS line, and takes new ones when a slot frees', async () => {
    const server = await listen({ session: echoSession('persistent'), maxConnections: 1 });
    const first = await LineClient.connect(server.address.port);
    expect(await first.nextLine()).toBe('HELLO test');
    const second = await LineClient.connect(server.address.port);
    await second.closed;
    expect(second.lines).toEqual(['FAILURE too many connections. This server takes 1 connections at most; try again later. (TOO_MANY_CONNECTIONS)']);
    first.close();
    await waitFor(() => server.connections === 0, { what: 'the slot to free' });
    const third = await LineClient.connect(server.address.port);
    expect(await third.nextLine()).toBe('HELLO test');
    third.close();
  });

  it('stops reading a client that does not read its replies, and resumes once it does', { timeout: 60_000 }, async () => {
    const server = await listen({ session: echoSession('persistent'), maxLineBytes: 4096 });
    const client = await RawClient.connect(server.address.port);
    client.socket.pause();
    // Enough replies to overflow the kernel's buffers on both sides.
    const requests = 1_000_000;
    client.write('x'.repeat(20).concat('\n').repeat(requests));
    await waitFor(() => server.paused === 1, { what: 'the server to stop reading the client', timeoutMs: 20_000 });
    client.socket.resume();
    await waitFor(() => client.lines.length === requests + 1, { what: 'every reply', timeoutMs: 30_000 });
    expect(server.paused).toBe(0);
    client.destroy();
  });

  it('on close, ends idle connections at once and lets a held reply, an owed answer and a partial line finish', async () => {
    const held = gate<string>();
    const server = await listen({ session: echoSession('single', [held.promise]) });
    const idle = await LineClient.connect(server.address.port);
    idle.send('KEEP');
    expect(await idle.nextLines(2)).toEqual(['HELLO test', 'KEEP']);
    const waiting = await LineClient.connect(server.address.port);
    waiting.send('HOLD');
    const greeted = await LineClient.connect(server.address.port);
    const partial = await LineClient.connect(server.address.port);
    partial.send('KEEP');
    partial.socket.write('half a li');
    await Promise.all([waiting.nextLine(), greeted.nextLine(), partial.nextLines(2)]);

    const closed = server.close(10_000);
    await idle.closed;
    // A one-shot client that was greeted is owed its answer; a held reply is in flight.
    greeted.send('late but owed');
    expect(await greeted.nextLine()).toBe('LATE BUT OWED');
    partial.send('ne');
    expect(await partial.nextLine()).toBe('HALF A LINE');
    held.open('HELD\n');
    expect(await waiting.nextLine()).toBe('HELD');
    await closed;
    await Promise.all([waiting.closed, greeted.closed, partial.closed]);
    await waitFor(() => server.connections === 0, { what: 'every connection to be gone' });
  });

  it('listens on IPv6 loopback too', async () => {
    const server = await listen({ host: '::1', session: echoSession('single') });
    expect(server.address.host).toBe('::1');
    const client = await LineClient.connect(server.address.port, { host: '::1' });
    client.send('over v6');
    await client.closed;
    expect(client.lines).toEqual(['HELLO test', 'OVER V6']);
  });

  it('refuses a port in use with LISTEN_FAILED, which says where', async () => {
    const first = await listen({ session: echoSession('single') });
    await expect(listen({ session: echoSession('single'), port: first.address.port })).rejects.toMatchObject({
      code: 'LISTEN_FAILED',
      message: `cannot listen: 127.0.0.1:${first.address.port} is already in use`,
    });
  });
});
