import { afterEach, describe, expect, it } from 'vitest';
import { createCatalog } from '@conv/conversion';
import { LineClient, waitFor } from '@conv/testkit';
import { type LineServer, createLogger, startLineServer } from '@conv/server';
import { resolvePair } from '../src/pair';
import { createSession } from '../src/session';

let server: LineServer | undefined;
afterEach(async () => {
  await server?.close(0);
  server = undefined;
});

describe('the TCP shell', () => {
  it('stops reading from a persistent client whose replies pile up, and resumes once it reads', { timeout: 30_000 }, async () => {
    const conversion = resolvePair({ pair: ['ft', 'in'] }, createCatalog()).conversion;
    server = await startLineServer({
      host: '127.0.0.1',
      port: 0,
      maxConnections: 4,
      idleTimeoutMs: 30_000,
      idleNotice: true,
      maxLineBytes: 4096,
      session: () => createSession(conversion),
      log: createLogger({ name: 'converter', level: 'error' }),
    });
    const client = await LineClient.connect(server.address.port);
    client.socket.pause();
    // Each answer is 19 bytes: enough of them to overflow the kernel's buffers on both sides.
    const requests = 1_000_000;
    client.send('PERSIST\n');
    client.send('in ft 1\n'.repeat(requests));
    const running = server;
    await waitFor(() => running.paused === 1, { what: 'the server to pause reading' });
    client.socket.resume();
    await waitFor(() => client.lines.length >= requests + 2, { what: 'every answer', timeoutMs: 20_000 });
    expect(client.lines.slice(0, 3)).toEqual(['HELLO converter ft in - send "<from> <to> <amount>"', 'OK persistent', '0.0833333333333333']);
    expect(server.paused).toBe(0);
    client.close();
  });
});
