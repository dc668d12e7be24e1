import { type Server, type Socket, createServer } from 'node:net';

/** What a scripted server does with one request line: reply lines (each gets `\n`), nothing, or close. */
export type ScriptedAnswer = string | readonly string[] | undefined | { readonly close: true };

/**
 * A line server on loopback whose every answer is given by the test: a stand-in for a
 * misbehaving peer (a discovery replica cut off from its store, a server that answers twice).
 * It records every line received and every connection made; `answer` can be swapped mid-test.
 */
export type ScriptedServer = {
  readonly port: number;
  /** Request lines received so far, on any connection, in order. */
  readonly received: string[];
  /** Connections accepted so far. */
  readonly connections: number;
  answer: (line: string) => ScriptedAnswer;
  close(): Promise<void>;
};

export async function startScriptedServer(options: { answer: (line: string) => ScriptedAnswer; host?: string; greeting?: string }): Promise<ScriptedServer> {
  const sockets = new Set<Socket>();
  const received: string[] = [];
  let connections = 0;
  const state = { answer: options.answer };
  const server: Server = createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    socket.setEncoding('utf8');
    if (options.greeting !== undefined) socket.write(`${options.greeting}\n`);
    let buffer = '';
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      for (let newline = buffer.indexOf('\n'); newline >= 0 && !socket.destroyed; newline = buffer.indexOf('\n')) {
        const line = buffer.slice(0, newline).replace(/\r$/, '');
        buffer = buffer.slice(newline + 1);
        received.push(line);
        const answer = state.answer(line);
        if (answer === undefined) continue;
        if (typeof answer === 'object' && 'close' in answer) {
          socket.destroy();
          return;
        }
        const lines = typeof answer === 'string' ? [answer] : answer;
        socket.write(lines.map((l) => `${l}\n`).join(''));
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('scripted server has no TCP address');
  return {
    port: address.port,
    received,
    get connections() {
      return connections;
    },
    get answer() {
      return state.answer;
    },
    set answer(answer) {
      state.answer = answer;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/**
 * A conv discovery replica that cannot reach its shared store: it grants sessions and answers
 * PING and FEATURES, and every other request with the UNAVAILABLE failure conv's discovery sends.
 */
export const UNAVAILABLE_REPLY = 'FAILURE unavailable. The shared registry (etcd) is unreachable; nothing was changed. (UNAVAILABLE)';

export function unavailableReplica(line: string): ScriptedAnswer {
  const verb = line.trim().split(/\s+/, 1)[0]?.toUpperCase();
  if (verb === 'FEATURES') return 'FEATURES session report remove-pair watch';
  if (verb === 'SESSION') return 'OK session';
  if (verb === 'PING') return 'PONG';
  return UNAVAILABLE_REPLY;
}
