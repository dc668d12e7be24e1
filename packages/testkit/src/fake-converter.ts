import { type Server, type Socket, createServer } from 'node:net';
import { catalog } from '@conv/conversion';

/**
 * A minimal conversion server in the course's style (greeting, one request, one answer), for
 * discovery tests that need a live or dead endpoint without depending on the converter app.
 * It converts `units[0] -> units[1]` by `factor` and back; anything else gets a FAILURE line.
 * The factor defaults to the catalog's (discovery checks answers of exact pairs), else 1.
 * `answer` scripts a one-shot reply (a liar, a slow one, a busy one); `script` any misbehaviour.
 */
export type FakeConverter = {
  readonly port: number;
  readonly units: readonly [string, string];
  /** Requests answered so far (health probes included), `PERSIST` lines too. */
  readonly requests: string[];
  /** Connections accepted so far. */
  readonly connections: number;
  close(): Promise<void>;
};

/**
 * One request as the script sees it: which connection (1, 2, ... in order of accept), the
 * request's number on that connection (1, 2, ...), and the reply the fake would send.
 */
export type FakeRequest = { readonly line: string; readonly connection: number; readonly index: number; readonly reply: string };

/** What a script does instead: these lines, or close the connection without a word. */
export type FakeReply = readonly string[] | 'close';

/**
 * What to send for the `n`th request (0-based, over all connections) of `line`: a reply line, or
 * a reply after a delay in ms, then close. Return undefined to answer as usual.
 */
export type FakeAnswer = (line: string, n: number) => string | { line: string; afterMs: number } | undefined;

export async function startFakeConverter(options: {
  units: readonly [string, string];
  factor?: number;
  answer?: FakeAnswer;
  port?: number;
  host?: string;
  /** When it greets: on connect (conv's and most course servers), never, or only after reading the request. */
  greeting?: 'first' | 'none' | 'after-request';
  /** Speaks conv's persistent mode: `PERSIST` gets `OK persistent`, then one reply per line until the client closes. */
  persist?: boolean;
  /**
   * With `persist`: also `PERSIST TAGGED` (conv's converters since tags; the default), each reply
   * carrying its request's tag. False is a converter from before tags: `PERSIST TAGGED` is a
   * malformed request to it. Requests and scripts see lines without their tag; every line sent
   * back gets it.
   */
  tags?: boolean;
  /** Misbehaviour on cue: return the lines to send instead of the reply (or 'close'); undefined keeps the reply. */
  script?: (request: FakeRequest) => FakeReply | undefined;
}): Promise<FakeConverter> {
  const { units, factor = catalogFactor(units), port = 0, host = '127.0.0.1', greeting = 'first', persist = false, tags = true, script, answer } = options;
  const hello = `HELLO converter ${units[0]} ${units[1]} - send "<from> <to> <amount>"\n`;
  const requests: string[] = [];
  const sockets = new Set<Socket>();
  let connections = 0;
  const replyTo = (line: string): string => {
    const [from, to, amount] = line.split(/\s+/);
    const x = Number(amount);
    if (from === units[0] && to === units[1]) return String(x * factor);
    if (from === units[1] && to === units[0]) return String(x / factor);
    return `FAILURE wrong pair. This server converts ${units[0]} <-> ${units[1]} only. (WRONG_PAIR)`;
  };
  const server: Server = createServer((socket) => {
    const connection = ++connections;
    let index = 0;
    let persistent = false;
    let tagged = false;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    socket.setEncoding('utf8');
    if (greeting === 'first') socket.write(hello);
    let buffer = '';
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      for (let newline = buffer.indexOf('\n'); newline >= 0 && !socket.destroyed; newline = buffer.indexOf('\n')) {
        let line = buffer.slice(0, newline).trim();
        buffer = buffer.slice(newline + 1);
        const tag = tagged ? /^(#[0-9A-Za-z]+) /.exec(line)?.[1] : undefined;
        if (tag !== undefined) line = line.slice(tag.length + 1);
        const withTag = (l: string) => (tag === undefined ? l : `${tag} ${l}`);
        const n = requests.length;
        requests.push(line);
        const answered = answer?.(line, n);
        if (answered !== undefined) {
          const { line: reply, afterMs } = typeof answered === 'string' ? { line: answered, afterMs: 0 } : answered;
          const send = () => socket.end(`${greeting === 'after-request' ? hello : ''}${withTag(reply)}\n`);
          if (afterMs > 0) setTimeout(send, afterMs).unref();
          else send();
          return;
        }
        const tagsAsked = line === 'PERSIST TAGGED';
        const askedToPersist = persist && !persistent && (line === 'PERSIST' || (tags && tagsAsked));
        const reply = askedToPersist ? (tagsAsked ? 'OK persistent tagged' : 'OK persistent') : replyTo(line);
        const scripted = script?.({ line, connection, index: ++index, reply });
        if (scripted === 'close') {
          socket.destroy();
          return;
        }
        if (askedToPersist && scripted === undefined) {
          persistent = true;
          tagged = tagsAsked;
        }
        const lines = (scripted ?? [reply]).map((l) => `${withTag(l)}\n`).join('');
        if (persistent) {
          socket.write(lines);
          continue;
        }
        // The course's exchange: one request, one reply, close.
        socket.end(`${greeting === 'after-request' ? hello : ''}${lines}`);
        return;
      }
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
    get connections() {
      return connections;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

function catalogFactor(units: readonly [string, string]): number {
  try {
    const exact = catalog.exact(units[0], units[1]);
    if (exact.offset.numerator !== 0n) return 1;
    return catalog.convert(1, units[0], units[1]);
  } catch {
    return 1;
  }
}
