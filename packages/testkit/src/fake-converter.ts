import { type Server, type Socket, createServer } from 'node:net';
import { catalog } from '@conv/conversion';

/**
 * A minimal conversion server in the course's style (greeting, one request, one answer), for
 * discovery tests that need a live or dead endpoint without depending on the converter app.
 * It converts `units[0] -> units[1]` by `factor` and back; anything else gets a FAILURE line.
 * The factor defaults to the catalog's (discovery checks answers of exact pairs), else 1.
 * `answer` scripts it instead: a liar, a slow one, a busy one (see ScriptedAnswer).
 */
export type FakeConverter = {
  readonly port: number;
  readonly units: readonly [string, string];
  /** Requests answered so far (health probes included). */
  readonly requests: string[];
  close(): Promise<void>;
};

/**
 * What to send for the `n`th request (0-based) of `line`: a reply line, or a reply after a delay
 * in ms. Return undefined to answer as usual.
 */
export type ScriptedAnswer = (line: string, n: number) => string | { line: string; afterMs: number } | undefined;

export async function startFakeConverter(options: {
  units: readonly [string, string];
  factor?: number;
  answer?: ScriptedAnswer;
  port?: number;
  host?: string;
  /** When it greets: on connect (conv's and most course servers), never, or only after reading the request. */
  greeting?: 'first' | 'none' | 'after-request';
}): Promise<FakeConverter> {
  const { units, factor = catalogFactor(units), port = 0, host = '127.0.0.1', greeting = 'first', answer: script } = options;
  const hello = `HELLO converter ${units[0]} ${units[1]} - send "<from> <to> <amount>"\n`;
  const requests: string[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    socket.setEncoding('utf8');
    if (greeting === 'first') socket.write(hello);
    let buffer = '';
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      const newline = buffer.indexOf('\n');
      if (newline < 0) return;
      const line = buffer.slice(0, newline).trim();
      const n = requests.length;
      requests.push(line);
      const scripted = script?.(line, n);
      if (scripted !== undefined) {
        const { line: reply, afterMs } = typeof scripted === 'string' ? { line: scripted, afterMs: 0 } : scripted;
        const send = () => socket.end(`${greeting === 'after-request' ? hello : ''}${reply}\n`);
        if (afterMs > 0) setTimeout(send, afterMs).unref();
        else send();
        return;
      }
      const [from, to, amount] = line.split(/\s+/);
      const x = Number(amount);
      let answer: string;
      if (from === units[0] && to === units[1]) answer = String(x * factor);
      else if (from === units[1] && to === units[0]) answer = String(x / factor);
      else answer = `FAILURE wrong pair. This server converts ${units[0]} <-> ${units[1]} only. (WRONG_PAIR)`;
      socket.end(`${greeting === 'after-request' ? hello : ''}${answer}\n`);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('fake converter has no TCP address');
  return {
    port: address.port,
    units,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** The catalog's factor of a pair it defines without an offset; 1 for anything else. */
function catalogFactor(units: readonly [string, string]): number {
  try {
    const exact = catalog.exact(units[0], units[1]);
    if (exact.offset.numerator !== 0n) return 1;
    return catalog.convert(1, units[0], units[1]);
  } catch {
    return 1;
  }
}
