import { type Server, type Socket, createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { RawClient, runningInCI, waitUntilStalled } from '../src/index';

const servers: Server[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

/** A loopback server that does `onConnection` with each client. */
async function listen(onConnection: (socket: Socket) => void): Promise<number> {
  const server = createServer((socket) => {
    sockets.push(socket);
    socket.on('error', () => undefined);
    onConnection(socket);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as { port: number }).port;
}

describe('waitUntilStalled', () => {
  it('resolves once the server stops reading a client, its bytes left queued on the server side', async () => {
    const port = await listen((socket) => socket.pause());
    const client = await RawClient.connect(port);
    client.write(Buffer.alloc(2 ** 20, 0x61));
    await waitUntilStalled([client], 'a client of a server that reads nothing stalled');
    client.destroy();
  }, 60_000);

  // Regression: a client that half-closes after its last byte puts the server's side in CLOSE_WAIT
  // as soon as its FIN arrives, unread bytes or not; that was taken for the server having closed.
  it('resolves for a client that half-closed after its last byte while the server leaves some of it unread', async () => {
    const port = await listen((socket) => {
      let read = 0;
      socket.on('data', (chunk) => {
        read += chunk.length;
        if (read >= 2 ** 18) socket.pause();
      });
    });
    const client = await RawClient.connect(port);
    client.socket.pause();
    client.socket.end(Buffer.alloc(2 ** 19, 0x61));
    await waitUntilStalled([client], 'a half-closed client of a server that stopped reading stalled');
    client.destroy();
  }, 60_000);

  it('fails when the server reads everything although the client reads no reply (a backlog in the server)', async () => {
    // A server that takes every byte and holds its replies in memory: what backpressure prevents.
    const port = await listen((socket) => socket.on('data', () => undefined));
    const client = await RawClient.connect(port);
    client.socket.pause();
    client.write(Buffer.alloc(2 ** 20, 0x61));
    await expect(waitUntilStalled([client], 'a client of a server that reads everything stalled')).rejects.toThrow(/the server read everything 1 of 1 clients sent/);
    client.destroy();
  }, 60_000);

  it('fails at once, not at its deadline, when the server closes every client before any is seen stalled', async () => {
    const port = await listen((socket) => socket.destroy());
    const client = await RawClient.connect(port);
    client.socket.on('error', () => undefined);
    client.write(Buffer.alloc(2 ** 20, 0x61));
    await expect(waitUntilStalled([client], 'a client of a server that hangs up stalled', { timeoutMs: 120_000 })).rejects.toThrow(/closed all 1 before any was seen stalled/);
    client.destroy();
  }, 60_000);
});

describe('runningInCI', () => {
  it('reads CI strictly: only true or 1 make missing tools fail instead of skip', () => {
    expect(runningInCI({ CI: 'true' })).toBe(true);
    expect(runningInCI({ CI: '1' })).toBe(true);
    for (const value of [undefined, '', 'false', '0', 'no', 'TRUE ', 'yes']) expect(runningInCI({ CI: value }), `CI=${String(value)}`).toBe(false);
  });
});
